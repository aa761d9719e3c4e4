import type { Logger } from 'pino';

/**
 * Says that a managed server was closed while the kit served, not by its drain: the app's own
 * `server.close()`, often a leftover of `@godaddy/terminus` or `lightship`. Returns whether the
 * shutdown should start. The app's main server (the one the platform routes to and health-checks), or
 * the last server open (`openServers` 0), yes: the instance serves no app traffic any more, the
 * process would end with no line and no hook run (nothing else keeps it alive), or go on with an
 * admin port only until the platform's health check gives up; the shutdown runs the hooks. Another
 * server with the main one still open, no: the app may have closed it on purpose (a port it no longer
 * needs), and stopping the others would be the greater harm; they go on serving.
 *
 * @param port - the port the server listened on; undefined when never known.
 * @param openServers - the managed servers still listening.
 * @param main - it is the app's main server (the one `bootstrapAppRunner` listens with).
 */
export function closedElsewhere(
  logger: Logger,
  port: number | undefined,
  openServers: number,
  main = false,
): boolean {
  const where = port === undefined ? 'a server the kit manages' : `the server on port ${port}`;
  if (openServers > 0 && !main) {
    const others = openServers === 1 ? 'other server' : `${openServers} other servers`;
    logger.warn(
      { port, openServers },
      `${where} was closed outside the kit's shutdown (server.close() in the app?): the kit goes on serving on the ${others} it manages; if that close was not meant, remove it, the kit drains every server on SIGTERM`,
    );
    return false;
  }
  logger.warn(
    { port, openServers, main },
    `${where} was closed outside the kit's shutdown (server.close() in the app, a leftover of @godaddy/terminus or lightship?): the kit starts its shutdown, so that the onShutdown hooks run before the process ends; remove that server.close(), the kit drains the server on SIGTERM, and runtime.shutdown() stops the app on purpose`,
  );
  return true;
}

/**
 * Says that `server.close()` was called on a managed server during the shutdown, before its requests
 * were drained: Socket.IO's `io.close()` on `runtime.signal` (it closes the HTTP server it is attached
 * to), or a leftover `server.close()`. The kit has kept the idle keep-alive connections Node would
 * have closed at once (see `watchCloseCalls`); what it cannot undo is said: during the drain delay the
 * server refuses new connections from then on, `/readyz` included.
 *
 * @param phase - the shutdown's phase when it was called.
 * @param inDrainDelay - it was called before the drain delay ended.
 * @param calledFrom - the stack frame that called it, when known.
 */
export function closedWhileDraining(
  logger: Logger,
  port: number | undefined,
  phase: string,
  inDrainDelay: boolean,
  calledFrom: string | undefined,
): void {
  const where = port === undefined ? 'a server the kit manages' : `the server on port ${port}`;
  const socketIo = calledFrom !== undefined && /[\\/]socket\.io[\\/]/.test(calledFrom);
  const by = socketIo ? 'io.close() of Socket.IO' : 'server.close()';
  const effect = inDrainDelay
    ? "during the shutdown's drain delay, not by the kit: it refuses new connections from now on (/readyz included) while the load balancer may still send them; the kit keeps the open ones for the drain, the idle ones until their grace"
    : 'during the drain, not by the kit: Node would have closed its idle keep-alive connections at once, under a client writing its next request on one (ECONNRESET); the kit closes them after their idle grace';
  const fix = socketIo
    ? 'on runtime.signal call io.engine.close() (its clients reconnect to another instance), not io.close(), which closes the server too (docs/shutdown.md, "Socket.IO")'
    : 'remove that server.close() (on runtime.signal, or a leftover of @godaddy/terminus or lightship): the kit closes the server itself';
  logger.warn(
    { port, phase, ...(calledFrom === undefined ? {} : { calledFrom }) },
    `${where} was closed by ${by} ${effect}; ${fix}`,
  );
}
