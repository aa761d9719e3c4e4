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
    if (key.length === name.length && (key === name || key.toLowerCase() === name)) return raw[i + 1];
  }
  return undefined;
}
