import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

/** Lines written per window, at most: a scanner's garbage must not flood the log. */
const linesPerWindow = 10;
const lineWindowMs = 60_000;

/** Node's own answers to what its HTTP parser refused, as it writes them without a listener. */
const answers: Readonly<Record<string, readonly [status: number, head: string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n'],
};
const badRequest: readonly [number, string] = [400, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'];

/**
 * Writes a `warn` line for each request Node's HTTP parser refuses before it reaches the app, which
 * otherwise leaves no trace: a 20 KB cookie (431, over Node's 16 KB header limit), bytes it cannot
 * read as HTTP (400), one slower than `server.requestTimeoutMs` (408). Not the answers Node's server
 * writes after the parser (HTTP/1.1 without `Host`, an unknown `Expect`, `CONNECT`): it emits no
 * `clientError` for them, and a `checkExpectation` or `connect` listener would take the answer over
 * from Node. The line names the status, Node's code, the client's address and the bytes read; never
 * the bytes themselves (a header may hold a credential). At most ten lines a minute; the next line
 * counts those left out. A client that reset its connection, or hung up halfway through its request,
 * is no refusal: no line. The answer is Node's own, unless the app listens for `clientError` too,
 * which then answers. Returns the function that removes the listener.
 *
 * @param windowMs - the window the ten lines are counted in (a minute; tests give less).
 * @example
 * ```ts
 * coordinator.onStopped(logRejectedRequests(server, logger));
 * ```
 */
export function logRejectedRequests(server: Server, logger: Logger, windowMs = lineWindowMs): () => void {
  let windowStart = 0;
  let written = 0;
  let notWritten = 0;
  const onClientError = (error: Error & { code?: string; bytesParsed?: number }, socket: Socket): void => {
    const code = error.code ?? 'unknown';
    // A client that hung up halfway through its request (an aborted upload) was refused nothing.
    const refused =
      (code.startsWith('HPE_') && code !== 'HPE_INVALID_EOF_STATE') || code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const [statusCode, head] = answers[code] ?? badRequest;
    if (refused) {
      const now = performance.now();
      if (now - windowStart >= windowMs) {
        windowStart = now;
        written = 0;
      }
      if (written < linesPerWindow) {
        written++;
        logger.warn(
          {
            statusCode,
            code,
            clientIp: socket.remoteAddress,
            bytesRead: error.bytesParsed,
            ...(notWritten > 0 ? { notWritten } : {}),
          },
          `request refused before it reached the app: ${statusCode} (${code}: ${error.message})`,
        );
        notWritten = 0;
      } else {
        notWritten++;
      }
    }
    // Another listener (the app's) answers; else Node's answer, as without one.
    if (server.listenerCount('clientError') > 1) return;
    // As Node: unless a response in flight has put bytes on the socket (`_headerSent`; `headersSent`
    // is true from `writeHead()` on, before anything is sent).
    const inFlight = (
      socket as Socket & { _httpMessage?: (ServerResponse & { _headerSent?: boolean }) | null }
    )._httpMessage;
    if (socket.writable && (inFlight == null || inFlight._headerSent !== true)) socket.write(head);
    socket.destroy(error);
  };
  server.on('clientError', onClientError);
  return () => server.off('clientError', onClientError);
}
