import { Server as HttpServer } from 'node:http';
import { createServer as createHttp2Server, createSecureServer } from 'node:http2';
import { Server as HttpsServer } from 'node:https';
import { Server as NetServer } from 'node:net';
import type { ManagedServer } from './connection-tracker.js';

/** `node:http2`'s servers' own `close`, found once (the module does not export their classes). */
let http2Closes: ReadonlySet<unknown> | undefined;

/**
 * Whether `close` is one of Node's own that does more than stop accepting: `http.Server#close` and
 * `https.Server#close` close every idle keep-alive socket; `node:http2`'s close every session (a
 * GOAWAY to each) and, with `allowHTTP1`, the idle HTTP/1 sockets.
 */
function closesMore(close: unknown): boolean {
  if (close === HttpServer.prototype.close || close === HttpsServer.prototype.close) return true;
  http2Closes ??= new Set(
    [createHttp2Server(), createSecureServer()].map((server) => Object.getPrototypeOf(server).close),
  );
  return http2Closes.has(close);
}

/** The longest `calledFrom` kept: a stack frame, not a whole stack. */
const maxFrameLength = 300;

/** The frame that called the function whose `error` this is (its caller's caller), when V8 wrote it. */
function callerFrame(error: Error): string | undefined {
  // Line 0 is the message, line 1 the wrapper that made `error`, line 2 what called it.
  const frame = error.stack?.split('\n', 3)[2]?.trim();
  if (frame === undefined || !frame.startsWith('at ')) return undefined;
  return frame.slice(3, 3 + maxFrameLength);
}

/**
 * Watches the calls of `server.close()` made while `during()` is true (the drain of the kit's, before
 * its requests are drained): each is told to `report`, with the stack frame that called it, and only
 * stops the server accepting connections. Node's `http.Server#close` would also close every idle
 * keep-alive socket at once (Node >= 19), which a client may be writing its next request on: those
 * are the drain's to close, after their idle grace (and `node:http2`'s would send every session its
 * GOAWAY at once, the drain's to send). Socket.IO's `io.close()` calls it, as does a
 * leftover `server.close()` on `runtime.signal`. A `close` of the app's own (stoppable's) is called as
 * it is. Any other call goes through unchanged. Returns the function that puts `close` back, unless it
 * was replaced since.
 */
export function watchCloseCalls(
  server: ManagedServer,
  during: () => boolean,
  report: (calledFrom: string | undefined) => void,
): () => void {
  const target = server as { close: (...args: unknown[]) => unknown };
  const hadOwn = Object.hasOwn(target, 'close');
  const previous = target.close;
  // Node's own: each is net.Server's after closing idle sockets or sessions, which are the drain's.
  const stopAccepting = closesMore(previous)
    ? (NetServer.prototype.close as (...args: unknown[]) => unknown)
    : previous;
  const close = function close(this: unknown, ...args: unknown[]): unknown {
    if (this !== server || !during()) return Reflect.apply(previous, this, args);
    report(callerFrame(new Error('server.close()')));
    return Reflect.apply(stopAccepting, this, args);
  };
  target.close = close;
  return () => {
    if (target.close !== close) return;
    if (hadOwn) target.close = previous;
    else delete (target as { close?: unknown }).close;
  };
}
