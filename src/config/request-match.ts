import type { IncomingMessage } from 'node:http';
import { invalid } from './parse.js';

/**
 * Requests picked by path or by a function: paths as requests carry them (`/metrics`; `/internal/*`
 * for a path and everything below it), or a function of the request as it arrives (only `true`
 * picks it). What `quietRequests` and `loadShedding.exempt` take.
 */
export type RequestMatch = readonly string[] | ((req: IncomingMessage) => boolean);

/** Requests the kit keeps quiet (see `quietRequests`): a {@link RequestMatch}. */
export type QuietRequests = RequestMatch;

const maxPaths = 100;
// Visible ASCII but `#`, `*` and `?`: a path as it arrives (percent-encoded), without a query.
const pathPattern = /^\/[\x21\x22\x24-\x29\x2b-\x3e\x40-\x7e]{0,255}$/;
const accepted = `an array of at most ${maxPaths} paths, each starting with / and at most 256 characters of visible ASCII, percent-encoded as requests carry them (no query; /prefix/* for a path and all below it), or a function (req) => boolean`;

/** Validates a {@link RequestMatch} given as `option`: a frozen copy of the paths, or the function as given. */
export function parseRequestMatch(option: string, value: unknown): RequestMatch {
  if (typeof value === 'function') return value as (req: IncomingMessage) => boolean;
  if (!Array.isArray(value) || value.length > maxPaths) invalid(option, value, accepted);
  for (const [i, path] of (value as unknown[]).entries()) {
    const text = typeof path === 'string' && path.endsWith('/*') ? path.slice(0, -2) || '/' : path;
    if (typeof text !== 'string' || !pathPattern.test(text)) invalid(`${option}[${i}]`, path, accepted);
  }
  return Object.freeze([...(value as string[])]);
}
