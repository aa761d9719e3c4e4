import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { LogLevel } from '../config/environment.js';
import {
  cutByServer,
  destroyedWithError,
  failedDespiteStatus,
  type MutableRequestContext,
  noRequestFields,
  plainIdSlot,
  quietSlot,
  type RequestFieldValue,
  requestDurationMs,
  requestSpanId,
  responseUnfinished,
  urlSlot,
} from '../http/context.js';
import { clientAddress, originTarget, peerAddress, requestPath } from '../http/path.js';
import { rawHeader, rawHeaderJoined } from '../http/raw-headers.js';
import type { RequestFinishHook } from '../http/request-scope.js';
import { responseContentLength } from '../http/response-length.js';
import { carriesContextSlot, isJsonSafe, jsonString, rawLineWriter, writesLevel } from './logger.js';

/** Level of the request line by outcome. */
export interface RequestLevels {
  /** Status below 400. @default 'info' */
  readonly success: LogLevel;
  /** Status 400–499. @default 'info' */
  readonly clientError: LogLevel;
  /** Status 500 and above. @default 'error' */
  readonly serverError: LogLevel;
  /** The client went away before the response finished. @default 'warn' */
  readonly aborted: LogLevel;
}

/** Options of {@link requestLineHook}. */
export interface RequestLineOptions {
  readonly levels: RequestLevels;
  /** Keep the query string in `path` (it may carry tokens). */
  readonly query: boolean;
  /** Proxies that append to `X-Forwarded-For`, for `clientIp` (`server.trustedProxies`). @default 1 */
  readonly trustedProxies?: number;
}

/**
 * `,"name":"value"` from `prefix` (`,"name":"`), escaped as JSON needs; `''` when `value` is
 * undefined. The prefix is a constant: two concatenations per field.
 */
function field(prefix: string, value: string | undefined): string {
  if (value === undefined) return '';
  return isJsonSafe(value) ? `${prefix}${value}"` : prefix + JSON.stringify(value).slice(1);
}

/** The fields of addRequestFields, serialised as pino would (names and strings escaped). */
function requestFields(fields: Readonly<Record<string, RequestFieldValue>>): string {
  let out = '';
  for (const name of Object.keys(fields)) {
    const value = fields[name]!;
    out += `,${jsonString(name)}:${typeof value === 'string' ? jsonString(value) : String(value)}`;
  }
  return out;
}

/**
 * The finish hook that writes one line per request: `method`, `path` (without the query string unless
 * asked), `route` when the framework knows it, `statusCode` (none when the client went away before the
 * response began), `durationMs`, `bytes` (the response's Content-Length; none when it was aborted
 * or cut short), `userAgent`, `clientIp` (the `X-Forwarded-For` entry the `trustedProxies` appended,
 * else the peer), `requestId`, `traceId`, `spanId` (the request's span, on sampled traces) and the fields of `addRequestFields`.
 * A level of `'silent'` writes no line for that outcome (a route's error is still logged, on a
 * `request error` line). A quiet request (`quietRequests`) writes nothing unless it failed (5xx)
 * or was aborted. The message says the outcome:
 * `request completed`, `request failed` (5xx, a response the server cut short after it began, or an
 * error reported on a response below 400, such as a GraphQL 200 with `errors`) or `request aborted`
 * (the client went away first).
 */
export function requestLineHook(logger: Logger, options: RequestLineOptions): RequestFinishHook {
  const { levels, query, trustedProxies = 1 } = options;
  const writeRaw = rawLineWriter(logger);
  return (context: MutableRequestContext, req: IncomingMessage, res: ServerResponse): void => {
    // First: once measured, the request's line is done with (an error reported later is logged alone).
    const durationMs = requestDurationMs(context);
    // Unfinished: the client went away first, or the server cut the response short (a failure).
    const status = res.statusCode;
    const cut = cutByServer(context, res);
    // failedOnServer, with the cut already known, or an error reported on a response that says it
    // went well (a GraphQL 200 with `errors`); a 4xx's error stays a client's.
    const failed = status >= 500 || cut || failedDespiteStatus(context, res);
    const aborted = responseUnfinished(res) && !cut;
    // Destroyed with an error no route reported (a stream body that broke): the line carries it.
    if (cut && context.error === undefined && destroyedWithError(res)) context.error = res.errored;
    // A quiet request that did not fail writes nothing, its route's error (a 401, a 404) included.
    if (context[quietSlot] === true && !aborted && !failed) return;
    const level = aborted
      ? levels.aborted
      : failed
        ? levels.serverError
        : status >= 400
          ? levels.clientError
          : levels.success;
    if (level === 'silent') {
      // The outcome is not logged, but a route's error is never lost with it.
      if (context.error !== undefined)
        logger.error(
          { err: context.error, requestId: context.requestId, traceId: context.traceId },
          'request error',
        );
      return;
    }
    // The kit's check, not pino's alone: a logger that runs below its level to pick or hold lines
    // would build the line only to drop it. A picked request's line goes to the gate, which writes it.
    if (!writesLevel(logger, level) && context.debugSampled !== true) return;
    // The length declared: of a response aborted or cut short, less went out.
    const bytes = aborted || cut ? undefined : responseContentLength(res);
    const url = context[urlSlot] ?? req.url; // as it arrived: a router may have rewritten req.url
    const path = query ? originTarget(url) : requestPath(url);
    const userAgent = rawHeader(req, 'user-agent');
    const clientIp =
      clientAddress(rawHeaderJoined(req, 'x-forwarded-for'), trustedProxies) ??
      peerAddress(req.socket.remoteAddress);
    const message = aborted ? 'request aborted' : failed ? 'request failed' : 'request completed';
    // A client that went away before the response began was sent no status: the line claims none.
    const statusCode = aborted && !res.headersSent ? undefined : status;
    const spanId = requestSpanId(context);
    if (writeRaw !== undefined && context.error === undefined) {
      // The same line pino writes below, field for field, without its generic serialisation.
      writeRaw(
        level,
        (context[plainIdSlot] === true
          ? `,"requestId":"${context.requestId}"`
          : field(',"requestId":"', context.requestId)) +
          // Trace and span ids are hex, formatted by the kit's tracing: nothing to escape.
          (context.traceId === undefined ? '' : `,"traceId":"${context.traceId}"`) +
          (spanId === undefined ? '' : `,"spanId":"${spanId}"`) +
          field(',"method":"', req.method) +
          field(',"path":"', path) +
          field(',"route":"', context.route) +
          (statusCode === undefined ? '' : `,"statusCode":${statusCode}`) +
          `,"durationMs":${durationMs}` +
          (bytes === undefined ? '' : `,"bytes":${bytes}`) +
          field(',"userAgent":"', userAgent) +
          field(',"clientIp":"', clientIp) +
          (context.fields === noRequestFields ? '' : requestFields(context.fields)),
        message,
      );
      return;
    }
    const fields = {
      requestId: context.requestId,
      traceId: context.traceId,
      spanId,
      method: req.method,
      path,
      route: context.route,
      statusCode,
      durationMs,
      bytes,
      userAgent,
      clientIp,
      ...context.fields,
      ...(context.error === undefined ? {} : { err: context.error }),
      [carriesContextSlot]: true,
    };
    logger[level](fields, message);
  };
}
