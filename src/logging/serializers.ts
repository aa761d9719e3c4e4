import { pino } from 'pino';
import { SecretsStartupError } from '../errors.js';
import { pathWithoutQuery, peerAddress, requestPath } from '../http/path.js';
import { causeValue } from './cause-value.js';
import { redactedText } from './redaction.js';

const serializeStdError = pino.stdSerializers.err;

/**
 * What a logged request is reduced to: never its socket, parser, raw header list or headers (a
 * header list cannot be censored ahead of every header an app may use for a credential).
 */
export interface SerializedRequest {
  readonly method: string;
  /** Without its query string, as on the request line by default. */
  readonly url: string;
  readonly host: string | undefined;
  /** The framework's client address (`req.ip`, which follows its proxy settings), else the peer's. */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
}

/** What a logged response is reduced to. */
export interface SerializedResponse {
  readonly statusCode: number;
}

interface RequestLike {
  readonly method: string;
  readonly url: string;
  /** Express's and Koa's: the URL as it came, where `url` is what a mounted router sees. */
  readonly originalUrl?: unknown;
  readonly host?: unknown;
  readonly ip?: unknown;
  readonly headers?: { readonly host?: unknown } | null;
  readonly socket?: { readonly remoteAddress?: unknown; readonly remotePort?: unknown } | null;
}

/**
 * `req` and `request`: a request — Node's, or a framework's (Fastify's, Koa's, an `inject()`
 * request), anything with a `method` and a `url` — becomes its method, URL without the query, host
 * and client address, the shape Fastify writes. The URL is the one the request came with (Express's
 * and Koa's `originalUrl`), not the part a mounted router sees. Logged whole, a Node request wrote
 * 15 KB of the socket's and parser's state, its raw header list in clear (`Authorization`,
 * `Cookie`). Anything else is written as it is.
 */
export function serializeRequest(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const req = value as Partial<RequestLike>;
  if (typeof req.method !== 'string' || typeof req.url !== 'string') return value;
  const host = typeof req.host === 'string' ? req.host : req.headers?.host;
  const peer = req.socket?.remoteAddress;
  const port = req.socket?.remotePort;
  const result: SerializedRequest = {
    method: req.method,
    url: requestPath(typeof req.originalUrl === 'string' ? req.originalUrl : req.url),
    host: typeof host === 'string' ? host : undefined,
    remoteAddress:
      typeof req.ip === 'string' ? req.ip : peerAddress(typeof peer === 'string' ? peer : undefined),
    remotePort: typeof port === 'number' ? port : undefined,
  };
  return result;
}

/**
 * `res` and `response`: a response — Node's or a framework's, anything with a numeric `statusCode`
 * (Koa's: `status`) — becomes its status, as Fastify writes it; its headers (`Set-Cookie`) stay out.
 * Anything else is written as it is.
 */
export function serializeResponse(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const res = value as { statusCode?: unknown; status?: unknown };
  const statusCode = typeof res.statusCode === 'number' ? res.statusCode : res.status;
  if (typeof statusCode !== 'number') return value;
  const result: SerializedResponse = { statusCode };
  return result;
}

/**
 * `err` and `error`: pino's error serializer (type, message and stack with their causes, the error's
 * own fields), made safe and smaller, with the causes themselves:
 * - `cause` (see {@link serializeCause}): pino writes a cause only into the text of `message` and
 *   `stack`, and not at all when it is not an error (`{ cause: 'quota exceeded' }`), nor its fields
 *   (`fetch`'s `cause.code: 'ECONNREFUSED'`).
 * - A `DOMException` (an `AbortSignal`'s reason) is written without the 25 constants it inherits
 *   (`INDEX_SIZE_ERR`…), which doubled its line.
 * - An error it cannot serialise (a getter that throws, a frozen error, a Proxy, a cause chain too
 *   deep) becomes its type, message and stack, read defensively, with `serializationError`: a log
 *   call of the kit's, such as the request line of the request that failed with it, never throws.
 * - An HTTP client's error (axios: `isAxiosError`), also nested, keeps its request's method and URL
 *   without the query and its response's status: not the `ClientRequest` and response objects, nor
 *   any headers, which held the credentials in clear.
 * - An AWS SDK v3 error (`$metadata`), also nested, without the signing details a service answers a
 *   bad signature with (S3's `CanonicalRequest`, `StringToSign`, their `…Bytes` and
 *   `SignatureProvided`, which the SDK copies onto the error: the canonical request holds the
 *   `x-amz-security-token` header's value); and any error with the value of an
 *   `x-amz-security-token` its message or stack quotes masked.
 */
export function serializeError(value: unknown): unknown {
  try {
    const serialized = serializeStdError(value as Error) as unknown;
    if (serialized === value) return value;
    withCause(serialized as SerializedError, value as Error);
    if (value instanceof SecretsStartupError) withFailures(serialized as SerializedError, value);
    if (isDomException(value)) withoutDomExceptionConstants(serialized as SerializedError, value);
    return withClientCallsOnly(serialized as SerializedError, 0);
  } catch (error) {
    const fallback: Record<string, unknown> = {
      type: safeText(() => (value as Error).constructor.name) ?? 'Error',
      message: safeText(() => (value as Error).message) ?? safeText(() => String(value)),
      stack: safeText(() => (value as Error).stack),
      serializationError: safeText(() => (error as Error).message) ?? 'unknown',
    };
    // Its stack is its own here: the causes' stacks go with them.
    const cause = safeCause(value);
    if (cause !== undefined) {
      try {
        fallback.cause = serializeCause(cause, [value], true);
      } catch {
        fallback.cause = unreadableCause;
      }
    }
    return fallback;
  }
}

/**
 * `cause` as `err.cause` writes it, `chain` being the errors it is the cause of, outermost first:
 * - an error (an `Error`, or an object with a string `message` and `stack`) as its type, its own
 *   message, its own fields (`code`, `errno`, `syscall`, `status`…) and, in turn, its `cause`; not
 *   its stack unless `withStack`, because the outer error's `stack` carries it after `caused by:`;
 * - one of `chain` again as `'[Circular]'`, and one more than 7 causes deep as `'[causes left out]'`
 *   (pino's `stack` text goes on to the end of the chain);
 * - anything else as it is, a symbol or function as its text (JSON would drop them).
 * Never throws: a field that cannot be read is left out, with `serializationError`.
 */
export function serializeCause(cause: unknown, chain: readonly unknown[], withStack = false): unknown {
  if (typeof cause === 'symbol') return cause.toString();
  if (typeof cause === 'function') return `[Function: ${cause.name || 'anonymous'}]`;
  if (typeof cause !== 'object' || cause === null) return cause;
  if (chain.includes(cause)) return '[Circular]';
  // Within the depth that HTTP client errors are looked for in.
  if (chain.length >= maxNesting) return '[causes left out]';
  if (!readsAsError(cause)) return causeValue(cause);
  const serialized = Object.create(errorPrototype) as SerializedError;
  try {
    serialized.type = safeText(() => cause.constructor.name) ?? safeText(() => cause.name) ?? 'Error';
    serialized.message = cause.message;
    if (withStack) serialized.stack = cause.stack;
    for (const key of Object.keys(cause)) {
      if (key === 'cause' || key === 'stack' || serialized[key] !== undefined) continue;
      const field = (cause as unknown as Record<string, unknown>)[key];
      serialized[key] = isError(field) ? serializeError(field) : field;
    }
    serialized.raw = cause;
  } catch (error) {
    serialized.serializationError = describeThrown(error);
  }
  const next = safeCause(cause);
  if (next !== undefined) serialized.cause = serializeCause(next, [...chain, cause], withStack);
  return serialized;
}

/** {@link isError}, never throwing; a cause that cannot be read (a Proxy whose traps throw) is none. */
function readsAsError(value: object): value is Error {
  try {
    return isError(value);
  } catch {
    return false;
  }
}

/**
 * A failed start's secrets under `failures`, each as a cause is written (type, message, `reference`,
 * `awsCode`, its own cause): they are no field of the error that Node would print (see
 * {@link SecretsStartupError}).
 */
function withFailures(serialized: SerializedError, error: SecretsStartupError): void {
  serialized.failures = error.failures.map((failure) => serializeCause(failure, [error]));
}

/** A cause that could not be read at all. */
const unreadableCause = '[unreadable cause]';

/** `serialized` with `error`'s cause, if any, under `cause`. */
function withCause(serialized: SerializedError, error: Error): void {
  const cause = safeCause(error);
  if (cause !== undefined) serialized.cause = serializeCause(cause, [error]);
}

/**
 * `value.cause`; `undefined` when it has none, it cannot be read, or it is a function (VError's
 * `cause()` method, whose result pino's `stack` text carries).
 */
function safeCause(value: unknown): unknown {
  try {
    const cause = (value as { cause?: unknown }).cause;
    return typeof cause === 'function' ? undefined : cause;
  } catch {
    return undefined;
  }
}

/** What {@link withClientCallsOnly} and pino's serializer take for an error. */
function isError(value: unknown): value is Error {
  if (value instanceof Error) return true;
  if (typeof value !== 'object' || value === null) return false;
  const { message, stack } = value as { message?: unknown; stack?: unknown };
  return typeof message === 'string' && typeof stack === 'string';
}

/** The prototype of pino's serialised errors: `raw` kept out of the line, as in theirs. */
const errorPrototype = Object.getPrototypeOf(serializeStdError(new Error('prototype'))) as object;

/** The numeric constants a `DOMException` inherits, which pino's serializer copies as fields. */
const domExceptionConstants: readonly string[] =
  typeof DOMException === 'function' ? Object.keys(DOMException) : [];

function isDomException(value: unknown): boolean {
  return Object.prototype.toString.call(value) === '[object DOMException]';
}

function withoutDomExceptionConstants(serialized: SerializedError, error: unknown): void {
  for (const name of domExceptionConstants)
    if (!Object.hasOwn(error as object, name)) delete serialized[name];
}

/**
 * `error`, the key Powertools users log under: an `Error` as {@link serializeError} writes it (it was
 * written as `{}`); anything else as it is.
 */
export function serializeErrorField(value: unknown): unknown {
  return value instanceof Error ? serializeError(value) : value;
}

/**
 * A value's text for a message, never throwing: an object without a prototype or whose `toString`
 * throws, a revoked Proxy.
 */
export function describeThrown(value: unknown): string {
  return (
    safeText(() => (value instanceof Error ? value.message : String(value))) ??
    safeText(() => Object.prototype.toString.call(value)) ??
    'a value that cannot be printed'
  );
}

function safeText(read: () => unknown): string | undefined {
  try {
    const text = read();
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}

/** An error as pino's serializer writes it: its fields, the nested errors serialised the same way. */
type SerializedError = Record<string, unknown> & { raw?: unknown; aggregateErrors?: unknown };

/**
 * The fields a service's signature error (S3's `SignatureDoesNotMatch`) carries from its body, which
 * the AWS SDK copies onto the error: the canonical request lists each signed header with its value,
 * `x-amz-security-token` among them, and the `…Bytes` fields spell the same in hex.
 */
const signingDetails = [
  'CanonicalRequest',
  'CanonicalRequestBytes',
  'StringToSign',
  'StringToSignBytes',
  'SignatureProvided',
] as const;

/** A session token in a text (a canonical request quoted in a message, a presigned URL): its value. */
const sessionTokenInText = /(x-amz-security-token[:=]\s*)[^\s'"&<]+/gi;

/** An AWS SDK v3 error: a service's (`$metadata`, `$fault`), or one the SDK threw with `$metadata`. */
function isAwsSdkError(raw: unknown): boolean {
  const metadata = (raw as { $metadata?: unknown } | null | undefined)?.$metadata;
  return typeof metadata === 'object' && metadata !== null;
}

/**
 * `serialized` (an AWS SDK error) without the signing details a service sent back, nor the raw HTTP
 * response (`$response`: not enumerable in the SDK's versions we know, left out in case it is).
 */
function withoutSigningDetails(serialized: SerializedError): void {
  for (const name of signingDetails) if (serialized[name] !== undefined) serialized[name] = undefined;
  if (serialized.$response !== undefined) serialized.$response = undefined;
}

/**
 * `serialized` with any session token its message or stack quotes masked: a service's answer to a
 * bad signature may quote the canonical request, and pino's `stack` carries a cause's message too.
 */
function withSessionTokensMasked(serialized: SerializedError): void {
  for (const name of ['message', 'stack'] as const) {
    const text = serialized[name];
    if (typeof text === 'string') serialized[name] = text.replace(sessionTokenInText, `$1${redactedText}`);
  }
}

/** How deep nested errors are looked into for HTTP client errors. */
const maxNesting = 8;

/**
 * `serialized` with each HTTP client error in it (itself, its `aggregateErrors`, its fields holding
 * errors: `Promise.any` over axios calls) reduced to its call's method and URL without the query and
 * its answer's status. Not their headers: redaction paths do not reach a nested error.
 */
function withClientCallsOnly(serialized: SerializedError, depth: number): SerializedError {
  if (depth >= maxNesting) return serialized;
  if ((serialized.raw as { isAxiosError?: unknown } | undefined)?.isAxiosError === true) {
    const config = serialized.config as { method?: unknown; url?: unknown } | null | undefined;
    const response = serialized.response as { status?: unknown } | null | undefined;
    serialized.request = undefined;
    if (config != null)
      serialized.config = {
        method: config.method,
        url: typeof config.url === 'string' ? pathWithoutQuery(config.url) : config.url,
      };
    if (response != null) serialized.response = { status: response.status };
  } else if (isAwsSdkError(serialized.raw)) {
    withoutSigningDetails(serialized);
  }
  withSessionTokensMasked(serialized);
  const prototype = Object.getPrototypeOf(serialized) as unknown;
  for (const key of Object.keys(serialized)) {
    const value = serialized[key];
    if (Array.isArray(value) && (key === 'aggregateErrors' || key === 'failures')) {
      for (const item of value)
        if (typeof item === 'object' && item !== null)
          withClientCallsOnly(item as SerializedError, depth + 1);
    } else if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === prototype) {
      withClientCallsOnly(value as SerializedError, depth + 1);
    }
  }
  return serialized;
}
