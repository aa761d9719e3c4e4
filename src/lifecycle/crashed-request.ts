import type { Logger } from 'pino';
import { getMutableRequestContext } from '../http/context.js';
import type { ShutdownCoordinator } from './shutdown-coordinator.js';

/**
 * Answers the request whose code crashed (the current request, at an uncaught exception): `500` with
 * `Connection: close` (over HTTP/2, which has no such header, the drain's GOAWAY closes the session)
 * when its response has not started, else its connection is cut (over HTTP/2, its stream is reset).
 * Left alone, it would never be answered, and the drain would wait for it to the deadline; its client
 * would then get a reset. The error goes on its request line.
 */
export function failCrashedRequest(coordinator: ShutdownCoordinator, logger: Logger, error: unknown): void {
  const context = getMutableRequestContext();
  if (context === undefined) return;
  try {
    const res = coordinator.responseOf(context);
    if (res === undefined || res.writableEnded) return;
    if (context.error === undefined) context.error = error;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(500, res.req.httpVersionMajor === 2 ? http2CrashedHeaders : crashedHeaders);
    res.end(crashedBody);
  } catch (answerError) {
    // A response in a state no answer fits (a framework's own wrapper threw): the drain's deadline
    // ends it, as before.
    logger.warn({ err: answerError }, 'the request the crash happened in could not be answered 500');
  }
}

const crashedBody = 'Internal Server Error';
const http2CrashedHeaders = {
  'content-type': 'text/plain; charset=utf-8',
  'content-length': String(Buffer.byteLength(crashedBody)),
};
const crashedHeaders = { ...http2CrashedHeaders, connection: 'close' };
