import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import {
  Server as GrpcServer,
  status as grpcStatus,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { freePort } from './child.js';
import { type CollectedSpan, normaliseTraceRequest, type OtlpTransport } from './otlp/normalise.js';
import { decodeTraceRequest, encodeTraceResponse, TRACE_EXPORT_PATH } from './otlp/proto.js';
import { waitForCondition } from './wait.js';

export type {
  CollectedSpan,
  CollectedSpanKind,
  OtlpAttributes,
  OtlpTransport,
  OtlpValue,
} from './otlp/normalise.js';
export { encodeTraceRequest } from './otlp/proto.js';

const HOST = '127.0.0.1';

/**
 * A fault for the next `times` export requests (default 1), whichever transport gets them:
 * `error` answers `httpStatus` (default 503) over HTTP, `grpcCode` (default 14 UNAVAILABLE) over
 * gRPC, and collects nothing; `hang` never answers; `partial` collects the spans and answers a
 * partial success rejecting `rejectedSpans` of them, as a collector does with spans it cannot take.
 */
export type OtlpFault =
  | {
      readonly kind: 'error';
      readonly httpStatus?: number;
      readonly grpcCode?: number;
      readonly message?: string;
      /** Sent as `Retry-After` over HTTP. */
      readonly retryAfterSeconds?: number;
      readonly times?: number;
    }
  | { readonly kind: 'hang'; readonly times?: number }
  | {
      readonly kind: 'partial';
      readonly rejectedSpans: number;
      readonly errorMessage: string;
      readonly times?: number;
    };

/** One export request as received, faulted or not. */
export interface OtlpRequest {
  readonly transport: OtlpTransport | 'http/unsupported';
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly spanCount: number;
  /** The fault applied, or `'rejected'` for a body that did not decode. */
  readonly outcome: 'collected' | 'error' | 'hang' | 'rejected' | 'partial';
}

/** Options of {@link startOtlpCollector}. */
export interface OtlpCollectorOptions {
  /** Serve OTLP/HTTP (`/v1/traces`, JSON and protobuf). @default true */
  readonly http?: boolean;
  /** Serve OTLP/gRPC (TraceService/Export). @default true */
  readonly grpc?: boolean;
}

/** The OTLP collector stand-in on 127.0.0.1. */
export interface OtlpCollector {
  /** `http://127.0.0.1:<port>`: the value for `OTEL_EXPORTER_OTLP_ENDPOINT` (HTTP); '' without HTTP. */
  readonly httpUrl: string;
  /** `http://127.0.0.1:<port>/v1/traces`: the `url` option of the HTTP exporters; '' without HTTP. */
  readonly tracesUrl: string;
  /** `http://127.0.0.1:<port>`: the gRPC exporter's `url`; '' without gRPC. */
  readonly grpcUrl: string;
  readonly spans: readonly CollectedSpan[];
  readonly requests: readonly OtlpRequest[];
  /** The headers of each OTLP/HTTP request, as received. */
  readonly httpHeaders: readonly IncomingHttpHeaders[];
  /** Resolves with the spans once `count` are collected; rejects after `timeoutMs`. */
  waitForSpans(count: number, timeoutMs?: number): Promise<readonly CollectedSpan[]>;
  /** Queues a fault; faults apply in the order queued. */
  inject(fault: OtlpFault): void;
  /** Forgets spans, requests and queued faults. */
  clear(): void;
  /** Stops both receivers, dropping hung requests. Safe to call twice. */
  close(): Promise<void>;
}

/** A URL on 127.0.0.1 with nothing listening: an absent collector (connection refused). */
export async function absentCollectorUrl(): Promise<string> {
  return `http://${HOST}:${await freePort()}`;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Starts the collector on ephemeral ports. */
export async function startOtlpCollector(options: OtlpCollectorOptions = {}): Promise<OtlpCollector> {
  const spans: CollectedSpan[] = [];
  const requests: OtlpRequest[] = [];
  const httpHeaders: IncomingHttpHeaders[] = [];
  const faults: { fault: OtlpFault; remaining: number }[] = [];
  const events = new EventEmitter();
  const hungHttp = new Set<ServerResponse>();

  function takeFault(): OtlpFault | undefined {
    const next = faults[0];
    if (next === undefined) return undefined;
    next.remaining -= 1;
    if (next.remaining <= 0) faults.shift();
    return next.fault;
  }

  function record(entry: OtlpRequest, collected: CollectedSpan[] = []): void {
    requests.push(entry);
    spans.push(...collected);
    events.emit('change');
  }

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    httpHeaders.push(req.headers);
    const raw = await readBody(req);
    const contentType = req.headers['content-type']?.split(';')[0]?.trim();
    const contentEncoding = req.headers['content-encoding'];
    const reply = (
      status: number,
      type: string,
      body: string | Uint8Array,
      headers: Record<string, string> = {},
    ) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': type, ...headers });
      res.end(body);
    };
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      reply(404, 'text/plain', `no OTLP receiver for ${req.method} ${req.url}`);
      return;
    }
    const json = contentType === 'application/json';
    if (!json && contentType !== 'application/x-protobuf') {
      record({
        transport: 'http/unsupported',
        contentType,
        contentEncoding,
        spanCount: 0,
        outcome: 'rejected',
      });
      reply(415, 'text/plain', `unsupported content-type ${contentType}`);
      return;
    }
    const transport: OtlpTransport = json ? 'http/json' : 'http/protobuf';
    let collected: CollectedSpan[];
    try {
      const body =
        contentEncoding === 'gzip' ? gunzipSync(raw) : contentEncoding === 'deflate' ? inflateSync(raw) : raw;
      const request: unknown = json ? JSON.parse(body.toString('utf8')) : decodeTraceRequest(body);
      collected = normaliseTraceRequest(request, transport);
    } catch (error) {
      record({ transport, contentType, contentEncoding, spanCount: 0, outcome: 'rejected' });
      reply(
        400,
        json ? 'application/json' : 'text/plain',
        JSON.stringify({ code: 3, message: String(error) }),
      );
      return;
    }
    const fault = takeFault();
    const entry = { transport, contentType, contentEncoding, spanCount: collected.length };
    if (fault?.kind === 'hang') {
      record({ ...entry, outcome: 'hang' });
      hungHttp.add(res);
      res.once('close', () => hungHttp.delete(res));
      return;
    }
    if (fault?.kind === 'error') {
      record({ ...entry, outcome: 'error' });
      const retryAfter: Record<string, string> =
        fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
      reply(
        fault.httpStatus ?? 503,
        'application/json',
        JSON.stringify({
          code: fault.grpcCode ?? grpcStatus.UNAVAILABLE,
          message: fault.message ?? 'injected fault',
        }),
        retryAfter,
      );
      return;
    }
    const partial = fault?.kind === 'partial' ? fault : undefined;
    record({ ...entry, outcome: partial === undefined ? 'collected' : 'partial' }, collected);
    const partialSuccess =
      partial === undefined
        ? undefined
        : { rejectedSpans: partial.rejectedSpans, errorMessage: partial.errorMessage };
    // OTLP/JSON writes an int64 as a string.
    if (json)
      reply(
        200,
        'application/json',
        JSON.stringify(
          partialSuccess === undefined
            ? {}
            : { partialSuccess: { ...partialSuccess, rejectedSpans: String(partialSuccess.rejectedSpans) } },
        ),
      );
    else reply(200, 'application/x-protobuf', encodeTraceResponse(partialSuccess));
  }

  let httpUrl = '';
  let httpServer: ReturnType<typeof createServer> | undefined;
  if (options.http ?? true) {
    const server = createServer((req, res) => {
      handleHttp(req, res).catch(() => res.destroy());
    });
    httpServer = server;
    server.listen(0, HOST);
    await once(server, 'listening');
    httpUrl = `http://${HOST}:${(server.address() as AddressInfo).port}`;
  }

  let grpcUrl = '';
  let grpcServer: GrpcServer | undefined;
  if (options.grpc ?? true) {
    const server = new GrpcServer();
    const definition: ServiceDefinition = {
      Export: {
        path: TRACE_EXPORT_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: () => Buffer.alloc(0),
        // Decoded in the handler, so a bad body is recorded like the HTTP receiver records one.
        requestDeserialize: (bytes: Buffer) => bytes,
        responseSerialize: (bytes: Uint8Array) => Buffer.from(bytes),
        responseDeserialize: (bytes: Buffer) => bytes,
      },
    };
    server.addService(definition, {
      Export(call: ServerUnaryCall<Buffer, Uint8Array>, callback: sendUnaryData<Uint8Array>) {
        let collected: CollectedSpan[];
        try {
          collected = normaliseTraceRequest(decodeTraceRequest(call.request), 'grpc');
        } catch (error) {
          record({
            transport: 'grpc',
            contentType: undefined,
            contentEncoding: undefined,
            spanCount: 0,
            outcome: 'rejected',
          });
          callback({ code: grpcStatus.INVALID_ARGUMENT, details: String(error) });
          return;
        }
        const entry = {
          transport: 'grpc',
          contentType: undefined,
          contentEncoding: undefined,
          spanCount: collected.length,
        } as const;
        const fault = takeFault();
        if (fault?.kind === 'hang') {
          record({ ...entry, outcome: 'hang' });
          return;
        }
        if (fault?.kind === 'error') {
          record({ ...entry, outcome: 'error' });
          callback({
            code: fault.grpcCode ?? grpcStatus.UNAVAILABLE,
            details: fault.message ?? 'injected fault',
          });
          return;
        }
        const partial = fault?.kind === 'partial' ? fault : undefined;
        record({ ...entry, outcome: partial === undefined ? 'collected' : 'partial' }, collected);
        callback(
          null,
          encodeTraceResponse(
            partial && { rejectedSpans: partial.rejectedSpans, errorMessage: partial.errorMessage },
          ),
        );
      },
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${HOST}:0`, ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      );
    });
    grpcServer = server;
    grpcUrl = `http://${HOST}:${port}`;
  }

  let closing: Promise<void> | undefined;
  return {
    httpUrl,
    tracesUrl: httpUrl === '' ? '' : `${httpUrl}/v1/traces`,
    grpcUrl,
    spans,
    requests,
    httpHeaders,
    waitForSpans(count, timeoutMs = 5_000) {
      return waitForCondition({
        emitter: events,
        event: 'change',
        until: () => spans.length >= count,
        value: () => [...spans],
        timeoutMs,
        failure: () =>
          `OTLP collector: ${spans.length} of ${count} spans after ${timeoutMs} ms; requests: ${JSON.stringify(requests)}`,
      });
    },
    inject(fault) {
      const times = fault.times ?? 1;
      if (!(times > 0)) throw new RangeError(`fault.times must be > 0, got ${times}`);
      faults.push({ fault, remaining: times });
    },
    clear() {
      spans.length = 0;
      requests.length = 0;
      httpHeaders.length = 0;
      faults.length = 0;
    },
    close() {
      closing ??= Promise.all([
        new Promise<void>((resolve) => {
          if (httpServer === undefined) return resolve();
          for (const res of hungHttp) res.destroy();
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        }),
        new Promise<void>((resolve) => {
          // forceShutdown cancels hung calls; tryShutdown alone would wait for them.
          grpcServer?.forceShutdown();
          resolve();
        }),
      ]).then(() => undefined);
      return closing;
    },
  };
}
