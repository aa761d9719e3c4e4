import type { RequestMatch } from '../config/request-match.js';
import { requestPath } from './path.js';
import { guardedPredicate, type RequestPredicate } from './request-predicate.js';

/** The path of a request target: origin form as it is, absolute form (`http://host/path`) without its origin, `*` as `/`. */
function targetPath(url: string | undefined): string {
  const path = requestPath(url);
  return path.charCodeAt(0) === 0x2f ? path : '/';
}

/**
 * A path a prefix must not match: with a `.` or `..` segment (also `%2e`) or an empty one (`//`), the
 * file or route served may not be below the prefix at all (`/internal/../admin`): no prefix picks such
 * a request (it is logged, traced and counted, and it may be shed).
 */
const unsafeForPrefix = /\/\.|%2e|\/\//i;

/**
 * The matcher of a {@link RequestMatch} given as `option` (`quietRequests`, `loadShedding.exempt`);
 * never throws. Paths match the request's path without its query (the absolute form
 * without its origin), exactly, or, for `/prefix/*`, the prefix itself and every path below it that has
 * no dot segment or empty segment. A function gets the request as it arrived (Node's
 * `IncomingMessage`, before any router); only `true` picks it. A function that throws or returns
 * a promise counts as `false`, and `failed` is told, once.
 */
export function requestMatcher(
  match: RequestMatch,
  option: string,
  failed: (error: unknown) => void,
): RequestPredicate {
  if (typeof match === 'function') return guardedPredicate(match, option, failed);
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const path of match) {
    if (path.endsWith('/*')) {
      const prefix = path.slice(0, -2);
      exact.add(prefix === '' ? '/' : prefix);
      prefixes.push(`${prefix}/`);
    } else {
      exact.add(path);
    }
  }
  return (req) => {
    const path = targetPath(req.url);
    if (exact.has(path)) return true;
    if (prefixes.length === 0 || unsafeForPrefix.test(path)) return false;
    for (const prefix of prefixes) if (path.startsWith(prefix)) return true;
    return false;
  };
}
