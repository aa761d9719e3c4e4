import type { IncomingMessage } from 'node:http';
import { invalid } from './parse.js';

/**
 * Requests the kit keeps quiet (see `quietRequests`): paths (`/metrics`; `/internal/*` for a path
 * and everything below it), or a function of the request.
 */
export type QuietRequests = readonly string[] | ((req: IncomingMessage) => boolean);

const maxQuietPaths = 100;
// Visible ASCII but `#`, `*` and `?`: a path as it arrives (percent-encoded), without a query.
const quietPathPattern = /^\/[\x21\x22\x24-\x29\x2b-\x3e\x40-\x7e]{0,255}$/;
const accepted = `an array of at most ${maxQuietPaths} paths, each starting with / and at most 256 characters of visible ASCII, percent-encoded as requests carry them (no query; /prefix/* for a path and all below it), or a function (req) => boolean`;

/** Validates `quietRequests`: a frozen copy of the paths, or the function as given. */
export function parseQuietRequests(value: unknown): QuietRequests {
  if (typeof value === 'function') return value as (req: IncomingMessage) => boolean;
  if (!Array.isArray(value) || value.length > maxQuietPaths) invalid('quietRequests', value, accepted);
  for (const [i, path] of (value as unknown[]).entries()) {
    const text = typeof path === 'string' && path.endsWith('/*') ? path.slice(0, -2) || '/' : path;
    if (typeof text !== 'string' || !quietPathPattern.test(text))
      invalid(`quietRequests[${i}]`, path, accepted);
  }
  return Object.freeze([...(value as string[])]);
}
