import { IncomingMessage, ServerResponse } from 'node:http';
import { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { pino } from 'pino';
import { pathWithoutQuery } from '../http/path.js';

const serializeStdError = pino.stdSerializers.err;

/** What a logged request is reduced to: never its socket, raw header list or parser. */
export interface SerializedRequest {
  readonly method: string | undefined;
  /** Without its query string, as on the request line by default. */
  readonly url: string;
  /** Sensitive ones censored, as any logged `req.headers`. */
  readonly headers: IncomingMessage['headers'];
  readonly remoteAddress: string | undefined;
}

/** What a logged response is reduced to. */
export interface SerializedResponse {
  readonly statusCode: number;
  readonly headers: ReturnType<ServerResponse['getHeaders']>;
}

/**
 * `req` and `request`: a Node request (or one wrapping it, as Fastify's and Koa's do, under `raw` or
 * `req`) becomes its method, URL without the query, headers and peer. Logged whole, it wrote 15 KB
 * of the socket's and parser's state, its raw header list in clear (`Authorization`, `Cookie`).
 * Anything else is written as it is.
 */
export function serializeRequest(value: unknown): unknown {
  const req = nodeMessage<IncomingMessage | Http2ServerRequest>(
    value,
    'req',
    IncomingMessage,
    Http2ServerRequest,
  );
  if (req === undefined) return value;
  const result: SerializedRequest = {
    method: req.method,
    url: pathWithoutQuery(req.url),
    headers: req.headers,
    remoteAddress: req.socket?.remoteAddress,
  };
  return result;
}

/** `res` and `response`: a Node response (or a framework's wrapper of one) becomes its status and headers. */
export function serializeResponse(value: unknown): unknown {
  const res = nodeMessage<ServerResponse | Http2ServerResponse>(
    value,
    'res',
    ServerResponse,
    Http2ServerResponse,
  );
  if (res === undefined) return value;
  const result: SerializedResponse = { statusCode: res.statusCode, headers: res.getHeaders() };
  return result;
}

/**
 * `err` and `error`: pino's error serializer (type, message and stack with their causes, the error's
 * own fields), made safe and smaller.
 * - An error it cannot serialise (a getter that throws, a frozen error, a Proxy, a cause chain too
 *   deep) becomes its type, message and stack, read defensively, with `serializationError`: a log
 *   call of the kit's, such as the request line of the request that failed with it, never throws.
 * - An HTTP client's error (axios: `isAxiosError`) keeps its request's method, URL and headers and
 *   its response's status and headers, not the `ClientRequest` and response objects, whose raw
 *   headers held the credentials in clear.
 */
export function serializeError(value: unknown): unknown {
  try {
    const serialized = serializeStdError(value as Error) as unknown;
    if (serialized !== value && (value as { isAxiosError?: unknown }).isAxiosError === true) {
      return withClientCallOnly(serialized as Record<string, unknown>);
    }
    return serialized;
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

type MessageClass<T> = abstract new (...args: never[]) => T;

/** `value` when it is a `T`, or the `T` a framework's object wraps (Fastify's `raw`, Koa's `req`, `res`). */
function nodeMessage<T extends object>(
  value: unknown,
  wrapperKey: 'req' | 'res',
  ...classes: readonly MessageClass<T>[]
): T | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const wrapper = value as { raw?: unknown; req?: unknown; res?: unknown };
  for (const candidate of [value, wrapper.raw, wrapper[wrapperKey]]) {
    if (classes.some((type) => candidate instanceof type)) return candidate as T;
  }
  return undefined;
}

/** An axios error's serialised fields: its call's request and response, without the socket objects. */
function withClientCallOnly(serialized: Record<string, unknown>): Record<string, unknown> {
  const config = serialized.config as { method?: unknown; url?: unknown; headers?: unknown } | undefined;
  const response = serialized.response as { status?: unknown; headers?: unknown } | undefined;
  serialized.request = undefined;
  if (config !== undefined && config !== null)
    serialized.config = { method: config.method, url: config.url, headers: plainHeaders(config.headers) };
  if (response !== undefined && response !== null)
    serialized.response = { status: response.status, headers: plainHeaders(response.headers) };
  return serialized;
}

/** axios keeps headers in an `AxiosHeaders` instance; its `toJSON` gives the plain object. */
function plainHeaders(headers: unknown): unknown {
  const toJSON = (headers as { toJSON?: unknown } | null | undefined)?.toJSON;
  return typeof toJSON === 'function' ? toJSON.call(headers) : headers;
}
