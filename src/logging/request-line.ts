import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { RequestContext } from '../http/context.js';
import type { RequestFinishHook } from '../http/request-scope.js';

function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * The finish hook that writes one line per request: method, path without the query string, status,
 * duration; `error` level for 5xx, `warn` when the client went away before the response finished.
 */
export function requestLineHook(logger: Logger): RequestFinishHook {
  return (context: RequestContext, req: IncomingMessage, res: ServerResponse): void => {
    const fields = {
      requestId: context.requestId,
      method: req.method,
      path: pathOf(req.url),
      statusCode: res.statusCode,
      durationMs: Math.round((performance.now() - context.startedAt) * 1000) / 1000,
    };
    if (!res.writableFinished) logger.warn(fields, 'request aborted');
    else if (res.statusCode >= 500) logger.error(fields, 'request failed');
    else logger.info(fields, 'request completed');
  };
}
