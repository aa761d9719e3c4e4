import type { IncomingMessage, ServerResponse } from 'node:http';
import { getMutableRequestContext, type MutableRequestContext, runWithRequestContext } from './context.js';

/** What a request listener last threw out of synchronously, with its request. */
let thrownOut: { readonly thrown: unknown; readonly context: MutableRequestContext } | undefined;

/**
 * Calls `listener` in the current request. What it throws synchronously is noted with the request,
 * then rethrown: Node makes it an uncaught exception, seen once the request's scope has ended, and
 * {@link runInRequestThrownOut} gives that request back (its line, its 500).
 */
export function callListener(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  try {
    listener(req, res);
  } catch (error) {
    const context = getMutableRequestContext();
    if (context !== undefined) thrownOut = { thrown: error, context };
    throw error;
  }
}

/**
 * Runs `fn` in the request `thrown` was thrown out of by {@link callListener}, when it was the last
 * thing thrown so and no request is current; else as it is.
 */
export function runInRequestThrownOut<T>(thrown: unknown, fn: () => T): T {
  const noted = thrownOut;
  thrownOut = undefined;
  if (noted === undefined || noted.thrown !== thrown || getMutableRequestContext() !== undefined) return fn();
  return runWithRequestContext(noted.context, fn);
}
