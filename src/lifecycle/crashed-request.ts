import type { Logger } from 'pino';
import { getMutableRequestContext } from '../http/context.js';
import { contextOfResponse } from '../http/request-scope.js';
import type { ShutdownCoordinator } from './shutdown-coordinator.js';

/**
 * Answers the request whose code crashed (the current request, at an uncaught exception): `500` with
 * `Connection: close` when its response has not started, else its connection is cut. Left alone, it
 * would never be answered, and the drain would wait for it to the deadline; its client would then get
 * a reset. The error goes on its request line. HTTP/1 only: an HTTP/2 stream is left to the drain.
 */
export function failCrashedRequest(coordinator: ShutdownCoordinator, logger: Logger, error: unknown): void {
  const context = getMutableRequestContext();
  if (context === undefined) return;
  try {
    const res = coordinator.findResponse((candidate) => contextOfResponse(candidate) === context);
    if (res === undefined || res.writableEnded) return;
    if (context.error === undefined) context.error = error;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(500, crashedHeaders);
    res.end(crashedBody);
  } catch (answerError) {
    // A response in a state no answer fits (a framework's own wrapper threw): the drain's deadline
    // ends it, as before.
    logger.warn({ err: answerError }, 'the request the crash happened in could not be answered 500');
  }
}

const crashedBody = 'Internal Server Error';
const crashedHeaders = {
  'content-type': 'text/plain; charset=utf-8',
  'content-length': String(Buffer.byteLength(crashedBody)),
  connection: 'close',
};
