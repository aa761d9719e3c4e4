import type { ServerResponse } from 'node:http';
import { urlSlot } from '../http/context.js';
import { requestPath } from '../http/path.js';
import { contextOfResponse } from '../http/request-scope.js';

/** Responses still open of one method and path, as the deadline's line names them. */
export interface OpenResponses {
  readonly method: string;
  /** Without its query (which may carry a token), and at most {@link maxPathLength} characters. */
  readonly path: string;
  readonly count: number;
}

/** A request in flight known by its method and path alone: an HTTP/2 stream. */
export interface OpenRequest {
  readonly method: string;
  /** The path as it arrived, query included. */
  readonly url: string | undefined;
}

/** Distinct method and path pairs named at most: the rest are counted (`openResponsesNotNamed`). */
const maxNamed = 10;
const maxPathLength = 200;

/**
 * The open responses grouped by method and path, in the order their connections opened, at most
 * ten of them, and how many responses the rest hold. Read from each response's own request, so those
 * the kit's listener never saw are named too: requests answered by a listener in front of it (Socket.IO
 * attached after the kit took the server: engine.io's long polls). An HTTP/2 stream comes as the
 * method and path its headers gave.
 */
export function groupOpenResponses(responses: readonly (ServerResponse | OpenRequest)[]): {
  named: OpenResponses[];
  notNamed: number;
} {
  const groups = new Map<string, { method: string; path: string; count: number }>();
  let notNamed = 0;
  for (const open of responses) {
    const { method, url: arrived } = 'req' in open ? requestOf(open) : open;
    const path = requestPath(arrived).slice(0, maxPathLength);
    const key = `${method} ${path}`;
    const group = groups.get(key);
    if (group !== undefined) group.count++;
    else if (groups.size < maxNamed) groups.set(key, { method, path, count: 1 });
    else notNamed++;
  }
  return { named: [...groups.values()], notNamed };
}

/** A response's method and path, as it arrived. */
function requestOf(res: ServerResponse): OpenRequest {
  const req = res.req as (ServerResponse['req'] & { originalUrl?: unknown }) | undefined;
  return {
    method: req?.method ?? 'unknown',
    // As the request line has it: a mounted router (Express's, koa-mount) rewrites req.url.
    url:
      contextOfResponse(res)?.[urlSlot] ??
      (typeof req?.originalUrl === 'string' ? req.originalUrl : req?.url),
  };
}

/** The fields of a line naming the open responses: `openResponses`, `openResponsesNotNamed`, each when any. */
export function openResponsesFields(
  named: readonly OpenResponses[],
  notNamed: number,
): Record<string, unknown> {
  return {
    ...(named.length === 0 ? {} : { openResponses: named }),
    ...(notNamed === 0 ? {} : { openResponsesNotNamed: notNamed }),
  };
}

/**
 * `; 2 responses still open: GET /socket.io/ ×2 (…)`, for the deadline's line (`lead` before it: `: `
 * for the progress line's): what held the drain, and the fix. Empty when none is open.
 */
export function openResponsesNote(named: readonly OpenResponses[], notNamed: number, lead = '; '): string {
  if (named.length === 0) return '';
  const total = named.reduce((sum, group) => sum + group.count, notNamed);
  const listed = named
    .map(({ method, path, count }) => `${method} ${path}${count === 1 ? '' : ` ×${count}`}`)
    .join(', ');
  const more = notNamed === 0 ? '' : `, ${notNamed} more`;
  const socketIo = named.some(({ path }) => path.startsWith('/socket.io/'));
  const fix = socketIo
    ? "Socket.IO's long polls end when io.engine.close() is called on runtime.signal"
    : 'a long poll or a stream should end on runtime.signal';
  return `${lead}${total} response${total === 1 ? '' : 's'} still open: ${listed}${more} (${fix})`;
}
