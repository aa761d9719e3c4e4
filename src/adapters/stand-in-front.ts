import type { Server } from 'node:http';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import type { NodeRequestListener } from '../config/options.js';

/**
 * Puts the listener `wrap` makes of a framework's request handler where that handler is among the
 * `request` listeners of the framework's own server, keeping their order: Fastify's (which adds it
 * there as it builds the server; a `serverFactory` may have wrapped it in one of its own), or the
 * server NestJS builds around its Express app. `handler` is the one to find; a server with one
 * listener only has it found too. Returns the function that puts the handler back; `undefined` when
 * the server has no single handler to stand in front of.
 */
export function standInFront(
  server: Server | Http2Server | Http2SecureServer,
  handler: unknown,
  wrap: (handler: NodeRequestListener) => NodeRequestListener,
): (() => void) | undefined {
  const listeners = server.listeners('request') as NodeRequestListener[];
  let index = listeners.indexOf(handler as NodeRequestListener);
  if (index === -1 && listeners.length === 1) index = 0;
  if (index === -1) return undefined;
  const found = listeners[index]!;
  const listener = wrap(found);
  const replace = (from: NodeRequestListener, to: NodeRequestListener): void => {
    // Raw: a `once` listener goes back as the `once` it was.
    const now = server.rawListeners('request') as NodeRequestListener[];
    if (!now.includes(from)) return;
    server.removeAllListeners('request');
    for (const each of now) server.on('request', each === from ? to : each);
  };
  replace(found, listener);
  return () => replace(listener, found);
}
