import type { ServerResponse } from 'node:http';

/**
 * The response's length as sent: its `Content-Length` header, else the length Node.js wrote itself
 * (`_contentLength`: `writeHead(status, headers)`, as Fastify calls it, does not store headers where
 * `getHeader` reads them; a body given whole to `end()` gets a length computed by Node). `undefined`
 * for a chunked response, or a header that is not a length.
 */
export function responseContentLength(res: ServerResponse): number | undefined {
  const header = res.getHeader('content-length');
  const length =
    typeof header === 'string'
      ? Number(header)
      : (header ?? (res as { _contentLength?: unknown })._contentLength);
  return typeof length === 'number' && Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}
