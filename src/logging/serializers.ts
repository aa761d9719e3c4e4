import { pino } from 'pino';
import { pathWithoutQuery, peerAddress } from '../http/path.js';

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
    url: pathWithoutQuery(typeof req.originalUrl === 'string' ? req.originalUrl : req.url),
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
 * own fields), made safe and smaller.
 * - An error it cannot serialise (a getter that throws, a frozen error, a Proxy, a cause chain too
 *   deep) becomes its type, message and stack, read defensively, with `serializationError`: a log
 *   call of the kit's, such as the request line of the request that failed with it, never throws.
 * - An HTTP client's error (axios: `isAxiosError`), also nested, keeps its request's method and URL
 *   without the query and its response's status: not the `ClientRequest` and response objects, nor
 *   any headers, which held the credentials in clear.
 */
export function serializeError(value: unknown): unknown {
  try {
    const serialized = serializeStdError(value as Error) as unknown;
    return serialized === value ? value : withClientCallsOnly(serialized as SerializedError, 0);
  } catch (error) {
    return {
      type: safeText(() => (value as Error).constructor.name) ?? 'Error',
      message: safeText(() => (value as Error).message) ?? safeText(() => String(value)),
      stack: safeText(() => (value as Error).stack),
      serializationError: safeText(() => (error as Error).message) ?? 'unknown',
    };
  }
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
  }
  const prototype = Object.getPrototypeOf(serialized) as unknown;
  for (const key of Object.keys(serialized)) {
    const value = serialized[key];
    if (Array.isArray(value) && key === 'aggregateErrors') {
      for (const item of value)
        if (typeof item === 'object' && item !== null)
          withClientCallsOnly(item as SerializedError, depth + 1);
    } else if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === prototype) {
      withClientCallsOnly(value as SerializedError, depth + 1);
    }
  }
  return serialized;
}
