import { type ManagedProcess, ProcessStartError, type ServiceState } from './managed-process.js';

/** The two services the kit's probes talk to. */
export type ServiceKind = 'postgres' | 'redis';

/**
 * A dedicated server on 127.0.0.1 that a test may stop, crash, pause and restart without
 * disturbing any other test file. The port and data folder stay the same across restarts.
 */
export interface ServiceInstance {
  readonly kind: ServiceKind;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` or `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The server's pid (postgres: the postmaster), undefined while stopped. */
  readonly pid: number | undefined;
  readonly state: ServiceState;
  /** The instance folder (postgres keeps its cluster in `<dir>/data`). */
  readonly dir: string;
  /** The server's recent output. */
  logs(): string;
  /** Starts it again after stop() or kill(); resolves once it accepts connections. */
  start(): Promise<void>;
  /** Clean, quick stop (postgres "fast" shutdown, redis SIGTERM); SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL to the server and every process below it: a crash. */
  kill(): Promise<void>;
  /** SIGSTOP to the server and every process below it: sockets stay open, nothing answers. */
  pause(): void;
  /** SIGCONT to what pause() stopped. */
  resume(): void;
  /** Stops it and deletes its folder. Safe to call twice. */
  dispose(): Promise<void>;
}

/** The handle over a started process. */
export function toInstance(
  kind: ServiceKind,
  url: string,
  port: number,
  process: ManagedProcess,
): ServiceInstance {
  return {
    kind,
    url,
    host: '127.0.0.1',
    port,
    get pid() {
      return process.pid;
    },
    get state() {
      return process.state;
    },
    dir: process.dir,
    logs: () => process.logs(),
    start: () => process.start(),
    stop: () => process.stop(),
    kill: () => process.kill(),
    pause: () => process.pause(),
    resume: () => process.resume(),
    dispose: () => process.dispose(),
  };
}

/** True when a start failed only because another process took the port meanwhile. */
export function portTaken(error: unknown): boolean {
  return error instanceof ProcessStartError && /address already in use/i.test(error.logs);
}
