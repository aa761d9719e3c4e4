import type { Logger } from 'pino';
import type { Pm2Settings } from '../config/launcher.js';
import type { ShutdownCoordinator } from './shutdown-coordinator.js';

/** The IPC side of the process pm2 talks to: `process`, or a stand-in in tests. */
export interface Pm2Channel {
  send?:
    | ((
        message: unknown,
        sendHandle?: undefined,
        options?: object,
        callback?: (error: Error | null) => void,
      ) => boolean)
    | undefined;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** The messages the kit exchanges with pm2 over the IPC channel pm2 runs the app with. */
export interface Pm2Messages {
  /**
   * Starts taking pm2's `shutdown` message (`shutdown_with_message`) as the stop signal; once only,
   * until the runtime stops. Called only while the process is kept alive anyway (the start awaits,
   * then the server listens): a `message` listener refs the IPC channel, and would keep alive a
   * process that would otherwise end.
   */
  serve(): void;
  /** Sends `ready` (`wait_ready`): pm2 counts the app online then, not at its `listen_timeout`. */
  ready(): void;
}

const none: Pm2Messages = { serve() {}, ready() {} };

/**
 * What the kit says to pm2 and hears from it. Under pm2 (`pm2` set) with an IPC channel only: with
 * `shutdown_with_message`, pm2 stops the app with the message `shutdown` and no signal, then
 * SIGKILLs it at `kill_timeout`; it starts the shutdown as SIGINT does (`handlesSignals`: unless
 * `shutdown.signals` is empty, when the app stops itself). With `wait_ready`, pm2 waits for `ready`.
 */
export function pm2Messages(
  pm2: Pm2Settings | undefined,
  coordinator: ShutdownCoordinator,
  logger: Logger,
  handlesSignals: boolean,
  channel: Pm2Channel = process as unknown as Pm2Channel,
): Pm2Messages {
  const send = channel.send;
  if (pm2 === undefined || send === undefined) return none;
  let serving = false;
  const onMessage = (message: unknown): void => {
    if (message !== 'shutdown') return;
    if (coordinator.state === 'draining' || coordinator.state === 'stopped') {
      logger.info({ launcher: 'pm2' }, "received pm2's shutdown message while draining: the drain goes on");
      return;
    }
    logger.info({ launcher: 'pm2' }, "received pm2's shutdown message");
    void coordinator.shutdown('pm2 shutdown message');
  };
  return {
    serve() {
      if (serving || !pm2.shutdownWithMessage || !handlesSignals || coordinator.state === 'stopped') return;
      serving = true;
      channel.on('message', onMessage);
      coordinator.onStopped(() => channel.off('message', onMessage));
    },
    ready() {
      if (!pm2.waitReady) return;
      send.call(channel, 'ready', undefined, {}, (error) => {
        if (error !== null && error !== undefined)
          logger.warn(
            { err: error, launcher: 'pm2' },
            'the ready message to pm2 could not be sent: pm2 counts the app online only at its listen_timeout',
          );
      });
    },
  };
}
