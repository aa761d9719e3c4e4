import { describeThrown } from '../../logging/serializers.js';
import type { CallOutcome, OutgoingCall } from '../backend.js';
import type { IncomingRequestInfo } from '../incoming-request.js';
import { maskedError, maskedText } from '../masked-error.js';
import type { SpanAttributes } from '../tracer.js';
import { type BoundedError, boundedError, cutText, maxExceptionMessage } from './bounded-error.js';
import type { SdkAwsAttributes } from './sdk-internals.js';

/** An exception as the SDK records it in a document's `cause`. */
export interface ExceptionFields {
  message?: unknown;
  type?: unknown;
  stack?: unknown[];
  /** X-Ray's count of the stack frames left out. */
  truncated?: number;
}

/** What the kit writes on a segment or subsegment besides what the SDK's classes declare. */
export interface XrayFields {
  namespace?: string;
  http?: {
    request?: Record<string, string | boolean | number>;
    response?: { status?: number; content_length?: number };
  };
  aws?: Record<string, unknown>;
  annotations?: Record<string, string | number | boolean>;
  fault?: boolean;
  error?: boolean;
  throttle?: boolean;
  metadata?: Record<string, Record<string, unknown>>;
  /** The exceptions recorded, or the id of the subsegment whose exception this is. */
  cause?: { id?: string; exceptions?: ExceptionFields[] };
}

/** The methods of the SDK's segments and subsegments the kit calls. */
export interface XrayEntity extends XrayFields {
  readonly id: string;
  addAnnotation(key: string, value: string | number | boolean): void;
  addMetadata(key: string, value: unknown, namespace?: string): void;
  /** The SDK's `CapturedException` reads `name`, `message` and `stack`: a {@link BoundedError} will do. */
  addError(error: Error | BoundedError | string, remote?: boolean): void;
}

const maxNameLength = 200;
const maxAnnotationKey = 500;
const maxAnnotationValue = 1_000;

/**
 * A segment or subsegment name X-Ray accepts: 1 to 200 Unicode letters, digits, white space and
 * `_ . : / % & # = + \ - @`; anything else becomes `_`.
 *
 * @example
 * ```ts
 * xrayName('load <user>', 'span'); // 'load _user_'
 * ```
 */
export function xrayName(name: string, fallback: string): string {
  const cleaned = name.replace(/[^\p{L}\p{N}\s_.:/%&#=+\\\-@]/gu, '_').slice(0, maxNameLength);
  return cleaned.trim() === '' ? fallback : cleaned;
}

/**
 * An annotation key X-Ray can filter on: letters, digits and `_` only (`note.id` → `note_id`),
 * at most 500 characters; `undefined` when nothing is left.
 *
 * @example
 * ```ts
 * annotationKey('user-tier'); // 'user_tier'
 * ```
 */
export function annotationKey(key: string): string | undefined {
  const cleaned = key.replace(/[^A-Za-z0-9_]/g, '_').slice(0, maxAnnotationKey);
  return cleaned === '' ? undefined : cleaned;
}

/**
 * Records attributes as X-Ray defines them: strings, finite numbers and booleans become annotations
 * (indexed, for filter expressions; keys sanitised by {@link annotationKey}, strings capped at
 * 1000 characters); arrays and anything else become metadata in the `default` namespace, under
 * the key as given.
 *
 * @example
 * ```ts
 * recordAttributes(subsegment, { 'note.id': '7', tags: ['a'] }); // annotation note_id, metadata tags
 * ```
 */
export function recordAttributes(entity: XrayEntity, attributes: SpanAttributes | undefined): void {
  if (attributes === undefined) return;
  for (const key of Object.keys(attributes)) {
    const value = attributes[key];
    if (value === undefined) continue;
    const annotatable =
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value));
    const annotation = annotatable ? annotationKey(key) : undefined;
    if (annotation !== undefined) {
      entity.addAnnotation(
        annotation,
        typeof value === 'string' && value.length > maxAnnotationValue
          ? value.slice(0, maxAnnotationValue)
          : (value as string | number | boolean),
      );
    } else {
      entity.addMetadata(key, typeof value === 'number' ? String(value) : value);
    }
  }
}

/** `:port` for a URL, or nothing when `port` is unknown or the scheme's default (80, 443). */
function portSuffix(scheme: IncomingRequestInfo['scheme'], port: number | undefined): string {
  const defaultPort = scheme === 'https' ? 443 : 80;
  return port === undefined || port === defaultPort ? '' : `:${port}`;
}

/**
 * The URL X-Ray shows for a request: scheme, `Host` (with a port that is not the default) and path,
 * never the query.
 *
 * @example
 * ```ts
 * requestUrl(describeIncomingRequest(req)); // 'https://notes.example.com/notes/7'
 * ```
 */
export function requestUrl(info: IncomingRequestInfo): string {
  return `${info.scheme}://${info.host ?? 'localhost'}${portSuffix(info.scheme, info.port)}${info.path}`;
}

/**
 * The `http.request` block of a request's segment.
 *
 * @example
 * ```ts
 * segment.http = { request: incomingRequestData(describeIncomingRequest(req)) };
 * ```
 */
export function incomingRequestData(info: IncomingRequestInfo): Record<string, string | boolean> {
  const data: Record<string, string | boolean> = {
    method: info.method,
    url: requestUrl(info),
  };
  if (info.clientAddress !== undefined) data.client_ip = info.clientAddress;
  if (info.userAgent !== undefined) data.user_agent = info.userAgent;
  if (info.clientAddress !== undefined && info.clientAddress !== info.peerAddress)
    data.x_forwarded_for = true;
  return data;
}

/**
 * X-Ray's flags for a response status: 429 throttle (and error), other 4xx error, 5xx fault.
 *
 * @example
 * ```ts
 * flagStatus(segment, 429); // segment.error = segment.throttle = true
 * ```
 */
export function flagStatus(entity: XrayFields, status: number | undefined): void {
  if (status === undefined) return;
  if (status === 429) entity.throttle = true;
  if (status >= 400 && status < 500) entity.error = true;
  else if (status >= 500) entity.fault = true;
}

const throttlingErrors =
  /^(?:Throttling|ThrottlingException|ThrottledException|RequestThrottledException|TooManyRequestsException|ProvisionedThroughputExceededException|TransactionInProgressException|RequestLimitExceeded|BandwidthLimitExceeded|LimitExceededException|RequestThrottled|SlowDown|PriorRequestNotComplete|EC2ThrottledException)$/;

/** The error each entity was last given: one given twice in a row is recorded once. */
const lastAdded = new WeakMap<XrayEntity, unknown>();

/**
 * The SDK's `addError`, bounded and never throwing. An error's message is cut at
 * {@link maxExceptionMessage} characters and its stack reduced to its real frames, at most 50
 * (the SDK made a frame of each line of a message, and a document over
 * 64 KB is not sent): see {@link boundedError}. A value that is not an error is recorded by its
 * text, and so is an error the SDK cannot read (a `stack` getter that throws). A throw here would
 * leave the entity unclosed, and unsent.
 *
 * @example
 * ```ts
 * addError(segment, Object.create(null)); // the cause's message: '[object Object]'
 * ```
 */
export function addError(entity: XrayEntity, error: unknown, remote = false): void {
  // Added to the same entity again (`span.recordError(e); throw e`), the SDK would take it for one
  // passed up from a child, and replace the exception with a reference to the entity itself.
  if (lastAdded.has(entity) && lastAdded.get(entity) === error) return;
  lastAdded.set(entity, error);
  try {
    if (!(error instanceof Error)) {
      entity.addError(cutText(maskedText(describeThrown(error)), maxExceptionMessage), remote);
      return;
    }
    const recorded = boundedError(maskedError(error));
    const omitted = recorded instanceof Error ? 0 : recorded.omittedFrames;
    if (omitted === 0) {
      entity.addError(recorded, remote);
      return;
    }
    // X-Ray's count of frames left out, on the exception the SDK makes (it keeps no reference to it).
    const before = new Set(entity.cause?.exceptions);
    entity.addError(recorded, remote);
    const added = entity.cause?.exceptions?.find((exception) => !before.has(exception));
    if (added !== undefined) added.truncated = omitted;
  } catch {
    entity.addError(cutText(maskedText(describeThrown(error)), maxExceptionMessage), remote);
  }
}

/** The name of an error the AWS SDK throws, when it is one. */
function errorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * The subsegment name and fields of an outgoing call, known when it starts.
 *
 * @example
 * ```ts
 * callFields({ kind: 'aws', service: 'S3', operation: 'GetObject', region: 'eu-west-1' });
 * // { name: 'S3', fields: { namespace: 'aws', aws: { operation: 'GetObject', region: 'eu-west-1' } } }
 * ```
 */
export function callFields(call: OutgoingCall): { name: string; fields: XrayFields } {
  if (call.kind === 'aws') {
    return {
      name: xrayName(call.service, 'AWS'),
      fields: {
        namespace: 'aws',
        aws: {
          operation: call.operation,
          ...(call.region === undefined ? {} : { region: call.region }),
        },
      },
    };
  }
  const port = portSuffix(call.protocol === 'https:' ? 'https' : 'http', call.port);
  const host = call.host.includes(':') ? `[${call.host}]` : call.host;
  return {
    name: xrayName(call.host, 'remote'),
    fields: {
      namespace: 'remote',
      http: { request: { method: call.method, url: `${call.protocol}//${host}${port}${call.path}` } },
    },
  };
}

/** The resource fields of an AWS call (`table_name`, `queue_url`), for its subsegment's `aws`. */
export type AwsResourceFields = (
  call: OutgoingCall & { kind: 'aws' },
  output: unknown,
) => Record<string, unknown> | undefined;

/** Fields of the SDK's `Aws` attribute the kit records itself, from the call and its outcome. */
const ownAwsFields = new Set(['operation', 'region', 'request_id', 'retries', 'id_2']);

/**
 * The resource fields of AWS calls as the SDK's own patcher records them (its whitelist: DynamoDB's
 * `table_name`, SQS's `queue_url`, S3's `bucket_name`…, which the service map shows as resources),
 * from its `Aws` attribute class. `undefined` for a call the whitelist has nothing for; never throws.
 *
 * @example
 * ```ts
 * const fields = awsResourceFields(internals.awsAttributes);
 * fields({ kind: 'aws', service: 'DynamoDB', operation: 'GetItem', region, input: { TableName: 'notes' } }, {});
 * // { table_name: 'notes' }
 * ```
 */
export function awsResourceFields(Aws: SdkAwsAttributes): AwsResourceFields {
  return (call, output) => {
    try {
      const operation = call.operation.charAt(0).toLowerCase() + call.operation.slice(1);
      const attributes = new Aws(
        { request: { operation, params: call.input ?? {} }, data: output },
        call.service,
      );
      const fields: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(attributes))
        if (!ownAwsFields.has(name) && value !== undefined) fields[name] = value;
      return Object.keys(fields).length === 0 ? undefined : fields;
    } catch {
      return undefined;
    }
  };
}

/**
 * Records how a call ended: the status, the AWS request id and retries, X-Ray's flags, and the
 * error. A throttling error of an AWS service sets `throttle` whatever its status. An error with a
 * 4xx status stays an `error` (the SDK's own patcher makes every thrown error a fault).
 *
 * @example
 * ```ts
 * recordOutcome(subsegment, call, { statusCode: 200, requestId: 'c0ffee', attempts: 1 });
 * ```
 */
export function recordOutcome(entity: XrayEntity, call: OutgoingCall, outcome: CallOutcome): void {
  const status = outcome.statusCode;
  const length = outcome.contentLength;
  if (status !== undefined || length !== undefined) {
    entity.http = {
      ...entity.http,
      response: {
        ...(status === undefined ? {} : { status }),
        ...(length === undefined ? {} : { content_length: length }),
      },
    };
  }
  if (call.kind === 'aws' && entity.aws !== undefined) {
    if (outcome.requestId !== undefined) entity.aws.request_id = outcome.requestId;
    if (outcome.extendedRequestId !== undefined) entity.aws.id_2 = outcome.extendedRequestId;
    if (outcome.attempts !== undefined && outcome.attempts > 1) entity.aws.retries = outcome.attempts - 1;
  }
  flagStatus(entity, status);
  const { error } = outcome;
  if (error === undefined) return;
  const name = errorName(error);
  if (name !== undefined && throttlingErrors.test(name)) {
    entity.throttle = true;
    entity.error = true;
  }
  recordCause(entity, error, true);
}

/**
 * Records `error` as the entity's cause (its exception). The SDK's `addError` sets `fault`; an error
 * whose status says it was the client's (4xx, flagged `error` already) is not one.
 *
 * @example
 * ```ts
 * flagStatus(segment, 404);
 * recordCause(segment, new NotFoundError('no note 7')); // segment.error, no segment.fault
 * ```
 */
export function recordCause(entity: XrayEntity, error: unknown, remote = false): void {
  addError(entity, error, remote);
  if (entity.error === true) delete entity.fault;
}
