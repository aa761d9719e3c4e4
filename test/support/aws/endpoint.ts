import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitForCondition } from '../wait.js';
import { AwsError, type AwsErrorSpec, type KnownAwsErrorCode } from './errors.js';
import type { RequestBody } from './input.js';
import { type PutSecretOptions, SecretsStore, type SecretVersionInfo } from './secrets-manager.js';
import { ParameterStore, type ParameterVersionInfo, type PutParameterOptions } from './ssm.js';

/** The operations the stand-in implements, by their SDK command names without `Command`. */
export type AwsOperation =
  | 'GetSecretValue'
  | 'DescribeSecret'
  | 'GetParameter'
  | 'GetParameters'
  | 'GetParametersByPath';

/** `X-Amz-Target` values as the v3 clients send them, and the service each belongs to. */
const TARGETS: Readonly<Record<string, { service: string; operation: AwsOperation }>> = {
  'secretsmanager.GetSecretValue': { service: 'secretsmanager', operation: 'GetSecretValue' },
  'secretsmanager.DescribeSecret': { service: 'secretsmanager', operation: 'DescribeSecret' },
  'AmazonSSM.GetParameter': { service: 'ssm', operation: 'GetParameter' },
  'AmazonSSM.GetParameters': { service: 'ssm', operation: 'GetParameters' },
  'AmazonSSM.GetParametersByPath': { service: 'ssm', operation: 'GetParametersByPath' },
};

const JSON_11 = 'application/x-amz-json-1.1';
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * A fault for the next `times` calls of an operation (default 1; `Infinity` for all):
 * `error` answers an AWS error, `delay` answers normally after `ms`, `hang` never answers,
 * `reset` resets the TCP connection (the client sees ECONNRESET).
 */
export type AwsFault =
  | { readonly kind: 'error'; readonly error: KnownAwsErrorCode | AwsErrorSpec; readonly times?: number }
  | { readonly kind: 'delay'; readonly ms: number; readonly times?: number }
  | { readonly kind: 'hang'; readonly times?: number }
  | { readonly kind: 'reset'; readonly times?: number };

/** The SigV4 credential scope of a request: who signed it for which region and service. */
export interface CredentialScope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

/** One request the endpoint received, faulted or not. */
export interface RecordedAwsRequest {
  /** The operation, or the raw `X-Amz-Target` of one the stand-in does not implement. */
  readonly operation: string;
  readonly body: RequestBody;
  readonly headers: IncomingHttpHeaders;
  readonly credentials: CredentialScope | undefined;
  /** The fault applied to this request, if any. */
  readonly fault: AwsFault['kind'] | undefined;
  /** Answered ThrottlingException by the service's quota ({@link AwsEndpoint.setQuota}). */
  readonly throttled: boolean;
  /** `Date.now()` when the request arrived. */
  readonly at: number;
}

/**
 * A request-rate quota shared by every caller of a service, as AWS applies it per account and
 * region: a token bucket refilled at `ratePerSecond`, holding at most `burst` tokens (full at the
 * start). A request that finds no token is answered `ThrottlingException` (400, "Rate exceeded").
 */
export interface AwsQuota {
  readonly ratePerSecond: number;
  /** @default ratePerSecond */
  readonly burst?: number;
}

/** Options of {@link startAwsEndpoint}. */
export interface AwsEndpointOptions {
  /** Region in ARNs. @default 'us-east-1' */
  readonly region?: string;
  /** Account id in ARNs. @default '123456789012' */
  readonly accountId?: string;
}

/** A Secrets Manager + SSM endpoint on 127.0.0.1 speaking AWS JSON 1.1 to the real v3 clients. */
export interface AwsEndpoint {
  /** `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL*`. */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  readonly accountId: string;
  /** Creates a secret (string → SecretString, bytes → SecretBinary) as AWSCURRENT. */
  putSecret(name: string, value: string | Uint8Array, options?: PutSecretOptions): SecretVersionInfo;
  /** Makes `newValue` AWSCURRENT and the former current version AWSPREVIOUS. */
  rotateSecret(id: string, newValue: string | Uint8Array, versionId?: string): SecretVersionInfo;
  /** Marks a secret for deletion: GetSecretValue then answers InvalidRequestException. */
  markSecretDeleted(id: string): void;
  /** Forgets a secret: reads then answer ResourceNotFoundException. */
  removeSecret(id: string): void;
  /** Creates a parameter, or adds a new version of it. */
  putParameter(name: string, value: string, options?: PutParameterOptions): ParameterVersionInfo;
  /** Deletes a parameter: reads then answer ParameterNotFound. */
  removeParameter(name: string): void;
  /** Queues a fault for `operation` (`'*'`: any operation); faults apply in the order queued. */
  inject(operation: AwsOperation | '*', fault: AwsFault): void;
  /** Drops every queued fault. */
  clearFaults(): void;
  /** Applies `quota` to every operation of `service` from now on (a full bucket); `undefined` lifts it. */
  setQuota(service: 'ssm' | 'secretsmanager', quota: AwsQuota | undefined): void;
  /** Requests of `operation` (or all) that a quota answered with ThrottlingException. */
  throttled(operation?: AwsOperation): number;
  /** How many requests of `operation` (of every operation when omitted) arrived, faulted ones included. */
  calls(operation?: AwsOperation): number;
  /** The requests of `operation` (or all), oldest first. */
  requests(operation?: AwsOperation): readonly RecordedAwsRequest[];
  /** Resolves once `calls(operation) >= count`; rejects after `timeoutMs`. */
  waitForCalls(operation: AwsOperation, count: number, timeoutMs?: number): Promise<void>;
  /** Forgets the recorded requests (the counts restart at 0). */
  resetCalls(): void;
  /**
   * TCP connections from clients still open: a client's idle keep-alive sockets count until it
   * closes them (or the server's keep-alive timeout of 5 s does).
   */
  openConnections(): number;
  /** Stops listening, drops every connection (hung ones too). Safe to call twice. */
  close(): Promise<void>;
}

interface QueuedFault {
  readonly fault: AwsFault;
  remaining: number;
}

function parseCredentialScope(authorization: string | undefined): CredentialScope | undefined {
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,/.exec(
    authorization ?? '',
  );
  if (match === null) return undefined;
  return { accessKeyId: match[1]!, date: match[2]!, region: match[3]!, service: match[4]! };
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

/** Starts the endpoint on 127.0.0.1, on an ephemeral port. */
export async function startAwsEndpoint(options: AwsEndpointOptions = {}): Promise<AwsEndpoint> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const secrets = new SecretsStore(region, accountId);
  const parameters = new ParameterStore(region, accountId);
  const faults = new Map<string, QueuedFault[]>();
  const recorded: RecordedAwsRequest[] = [];
  const events = new EventEmitter();
  const hung = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  const buckets = new Map<string, { rate: number; burst: number; tokens: number; at: number }>();

  /** Takes a token of `service`'s quota; false when there is none left now. */
  function takeToken(service: string): boolean {
    const bucket = buckets.get(service);
    if (bucket === undefined) return true;
    const now = performance.now();
    bucket.tokens = Math.min(bucket.burst, bucket.tokens + ((now - bucket.at) / 1000) * bucket.rate);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  const handlers: Record<AwsOperation, (body: RequestBody) => Record<string, unknown>> = {
    GetSecretValue: (body) => secrets.getSecretValue(body),
    DescribeSecret: (body) => secrets.describeSecret(body),
    GetParameter: (body) => parameters.getParameter(body),
    GetParameters: (body) => parameters.getParameters(body),
    GetParametersByPath: (body) => parameters.getParametersByPath(body),
  };

  function takeFault(operation: string): AwsFault | undefined {
    for (const key of [operation, '*']) {
      const queue = faults.get(key);
      const next = queue?.[0];
      if (next === undefined) continue;
      next.remaining -= 1;
      if (next.remaining <= 0) queue!.shift();
      return next.fault;
    }
    return undefined;
  }

  function send(res: ServerResponse, status: number, payload: unknown, errorType?: string): void {
    if (res.destroyed || res.writableEnded) return;
    const body = JSON.stringify(payload);
    res.writeHead(status, {
      'content-type': JSON_11,
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': randomUUID(),
      ...(errorType !== undefined && { 'x-amzn-errortype': errorType }),
    });
    res.end(body);
  }

  function sendError(res: ServerResponse, error: AwsError): void {
    send(res, error.status, { __type: error.type, message: error.message }, error.type);
  }

  function answer(res: ServerResponse, operation: AwsOperation | undefined, body: RequestBody): void {
    try {
      if (operation === undefined) throw new AwsError('UnknownOperationException');
      send(res, 200, handlers[operation](body));
    } catch (error) {
      if (error instanceof AwsError) sendError(res, error);
      else send(res, 500, { __type: 'InternalFailure', message: String(error) }, 'InternalFailure');
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (raw === undefined) {
      sendError(res, new AwsError('SerializationException', 'Request body too large', 413));
      return;
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const known = TARGETS[target];
    if (req.method !== 'POST' || req.url !== '/' || target === '') {
      sendError(
        res,
        new AwsError('UnknownOperationException', `No operation for ${req.method} ${req.url}`, 404),
      );
      return;
    }
    const contentType = String(req.headers['content-type'] ?? '');
    if (!contentType.startsWith(JSON_11)) {
      sendError(
        res,
        new AwsError('SerializationException', `Content-Type must be ${JSON_11}, not ${contentType}`),
      );
      return;
    }
    let body: RequestBody;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8') || '{}');
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      body = parsed as RequestBody;
    } catch {
      sendError(res, new AwsError('SerializationException'));
      return;
    }
    const credentials = parseCredentialScope(req.headers.authorization);
    const operation = known?.operation ?? target;
    const fault = credentials === undefined ? undefined : takeFault(operation);
    const throttled = credentials !== undefined && known !== undefined && !takeToken(known.service);
    recorded.push({
      operation,
      body,
      headers: req.headers,
      credentials,
      fault: fault?.kind,
      throttled,
      at: Date.now(),
    });
    events.emit('request');

    if (credentials === undefined) {
      sendError(res, new AwsError('MissingAuthenticationTokenException'));
      return;
    }
    if (known !== undefined && credentials.service !== known.service) {
      sendError(
        res,
        new AwsError(
          'InvalidSignatureException',
          `Credential should be scoped to service '${known.service}'.`,
        ),
      );
      return;
    }
    if (throttled) {
      sendError(res, AwsError.from('ThrottlingException'));
      return;
    }
    switch (fault?.kind) {
      case 'error':
        sendError(res, AwsError.from(fault.error));
        return;
      case 'hang':
        hung.add(res);
        res.once('close', () => hung.delete(res));
        return;
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'delay': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          answer(res, known?.operation, body);
        }, fault.ms);
        timers.add(timer);
        return;
      }
      default:
        answer(res, known?.operation, body);
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        send(res, 500, { __type: 'InternalFailure', message: String(error) }, 'InternalFailure');
      else res.destroy();
    });
  });
  let connections = 0;
  server.on('connection', (socket) => {
    connections++;
    socket.once('close', () => connections--);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const filtered = (operation?: AwsOperation) =>
    operation === undefined ? recorded : recorded.filter((r) => r.operation === operation);

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    region,
    accountId,
    putSecret: (name, value, putOptions) => secrets.put(name, value, putOptions),
    rotateSecret: (id, newValue, versionId) => secrets.rotate(id, newValue, versionId),
    markSecretDeleted: (id) => secrets.markDeleted(id),
    removeSecret: (id) => secrets.remove(id),
    putParameter: (name, value, putOptions) => parameters.put(name, value, putOptions),
    removeParameter: (name) => parameters.remove(name),
    inject(operation, fault) {
      const times = fault.times ?? 1;
      if (!(times > 0)) throw new RangeError(`fault.times must be > 0, got ${times}`);
      const queue = faults.get(operation) ?? [];
      queue.push({ fault, remaining: times });
      faults.set(operation, queue);
    },
    clearFaults: () => faults.clear(),
    setQuota(service, quota) {
      if (quota === undefined) {
        buckets.delete(service);
        return;
      }
      const burst = quota.burst ?? quota.ratePerSecond;
      buckets.set(service, { rate: quota.ratePerSecond, burst, tokens: burst, at: performance.now() });
    },
    throttled: (operation) => filtered(operation).filter((r) => r.throttled).length,
    calls: (operation) => filtered(operation).length,
    requests: (operation) => [...filtered(operation)],
    waitForCalls(operation, count, timeoutMs = 5_000) {
      return waitForCondition({
        emitter: events,
        event: 'request',
        until: () => filtered(operation).length >= count,
        value: () => undefined,
        timeoutMs,
        failure: () => `${operation}: ${filtered(operation).length} of ${count} calls after ${timeoutMs} ms`,
      });
    },
    resetCalls: () => {
      recorded.length = 0;
    },
    openConnections: () => connections,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        for (const res of hung) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
