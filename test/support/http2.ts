import type { ClientHttp2Session, OutgoingHttpHeaders } from 'node:http2';

/** One HTTP/2 stream of `session`: its status and body, or how it ended early (`error`, its code). */
export function streamOf(
  session: ClientHttp2Session,
  path: string,
  headers: OutgoingHttpHeaders = {},
): Promise<{ status: number | undefined; body: string; error?: string | undefined }> {
  return new Promise((resolve) => {
    const stream = session.request({ ':path': path, ...headers });
    let status: number | undefined;
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (response) => {
      status = response[':status'];
    });
    stream.on('data', (chunk: string) => {
      body += chunk;
    });
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', (error: NodeJS.ErrnoException) => resolve({ status, body, error: error.code }));
    stream.end();
  });
}
