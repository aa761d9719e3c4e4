import type { Server } from 'node:http';
import { type Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The response of {@link get}: status, headers, and the whole body as text. */
export interface TextResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** `http://127.0.0.1:<port>` of a listening server. */
export function baseUrl(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** One HTTP request over a real socket; rejects on a socket error or after `timeoutMs`. */
export function get(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string | string[]>;
    agent?: Agent | false;
    timeoutMs?: number;
  } = {},
): Promise<TextResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 5_000, () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * A client that leaves: sends a GET to `url` and closes the connection once `until` resolves (say,
 * once the app has the request), before any response.
 */
export async function abandon(url: string, until: Promise<unknown>): Promise<void> {
  const req = httpRequest(url, { agent: false });
  req.on('error', () => {});
  req.end();
  await until;
  req.destroy();
}
