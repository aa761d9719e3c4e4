import type { IncomingMessage } from 'node:http';

/**
 * The first value of request header `name` (lower case), read from `rawHeaders`. Node builds
 * `req.headers` on first access; a plain listener that never reads it should not pay for it in the
 * kit's request line or span. The first value is what `req.headers` keeps of a repeated `Host` or
 * `User-Agent` (unless the server joins duplicates, `joinDuplicateHeaders`), and the head of what it
 * joins for `X-Forwarded-*`.
 */
export function rawHeader(req: IncomingMessage, name: string): string | undefined {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!;
    if (isHeaderName(key, name)) return raw[i + 1];
  }
  return undefined;
}

/**
 * Every value of request header `name` (lower case), joined by `, ` as `req.headers` joins a
 * repeated `X-Forwarded-For`: a proxy that adds a line of its own (HAProxy's `option forwardfor`)
 * puts the address it appends there, after the caller's.
 */
export function rawHeaderJoined(req: IncomingMessage, name: string): string | undefined {
  const raw = req.rawHeaders;
  let joined: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (isHeaderName(raw[i]!, name)) joined = joined === undefined ? raw[i + 1] : `${joined}, ${raw[i + 1]}`;
  }
  return joined;
}

/**
 * Whether `raw`, a header name as the client sent it, is `lower` (a lower-case name) in any case.
 * Compares character codes: no lower-cased copy is made for each header of each request.
 */
export function isHeaderName(raw: string, lower: string): boolean {
  if (raw.length !== lower.length) return false;
  if (raw === lower) return true;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    // ASCII A–Z to a–z; header names are tokens, and anything else compares as it is.
    if ((code >= 0x41 && code <= 0x5a ? code | 0x20 : code) !== lower.charCodeAt(i)) return false;
  }
  return true;
}
