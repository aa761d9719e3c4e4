import type { AppExit, AppProcess } from './app-process.js';
import type { LoadSettings } from './check-options.js';
import type { Endpoint } from './health-probe.js';
import { KeepAliveLoad, type LoadOutcome } from './keep-alive-load.js';
import { pause, within } from './timing.js';

/** Counts of the load's requests. */
export interface DrainRequestCounts {
  readonly sent: number;
  /** Sent on an already-open connection. */
  readonly onOpenConnections: number;
  /** Of those, without an answer: what App Runner's proxy turns into a 502 — must be 0. */
  readonly failedOnOpenConnections: number;
  /** New connections refused once the app stopped accepting: expected, the proxy routes elsewhere. */
  readonly refusedNewConnections: number;
  /** New connections that failed otherwise (reset, hung up). */
  readonly failedNewConnections: number;
  /** Requests that failed before SIGTERM was sent. */
  readonly failedBeforeSignal: number;
  /** Answers with a 5xx status. */
  readonly status5xx: number;
  /** Failures by error, e.g. `{ ECONNRESET: 3, ECONNREFUSED: 1 }`. */
  readonly errors: Readonly<Record<string, number>>;
  /** Failures on open connections by error. */
  readonly errorsOnOpenConnections: Readonly<Record<string, number>>;
  /**
   * Idle connections the app closed at once after SIGTERM, without `Connection: close`: what a proxy
   * turns into a 502 when its next request crosses the close (see `KeepAliveLoad.closedAtOnce`).
   */
  readonly closedAtOnce: number;
  /**
   * Idle connections the app closed after SIGTERM, without `Connection: close`, at once or after a
   * grace: the checker, held up on a busy machine, cannot tell (see `KeepAliveLoad.closedUncertain`).
   */
  readonly closedUncertain: number;
}

/** What {@link runDrain} observed. */
export interface DrainObservation {
  /** Where the load went; `undefined` when it could not run (the reason is in `loadSkipped`). */
  readonly endpoint: Endpoint | undefined;
  readonly loadSkipped?: string;
  readonly requests: DrainRequestCounts;
  /** Requests in flight when SIGTERM was sent. */
  readonly inFlightAtSignal: number;
  /** SIGTERM was sent (false when the app had exited on its own). */
  readonly signalled: boolean;
  /** The app had already exited before SIGTERM. */
  readonly exitedBeforeSignal: boolean;
  /** How it ended. */
  readonly exit: AppExit | undefined;
  /** Milliseconds from SIGTERM to the exit (`undefined` when not signalled). */
  readonly exitAfterMs?: number;
  /** Still running when the grace window ended: it was SIGKILLed. */
  readonly aliveAtGrace: boolean;
  readonly graceMs: number;
}

/** Options of {@link runDrain}. */
export interface DrainOptions {
  /** Where to send the load; `undefined` runs the drain without load. */
  readonly endpoint: Endpoint | undefined;
  readonly loadSkipped?: string;
  readonly load: LoadSettings;
  readonly graceMs: number;
}

function count(
  outcomes: readonly LoadOutcome[],
  sent: number,
  closes: Pick<DrainRequestCounts, 'closedAtOnce' | 'closedUncertain'>,
): DrainRequestCounts {
  const errors: Record<string, number> = {};
  const onOpenErrors: Record<string, number> = {};
  let onOpen = 0;
  let failedOnOpen = 0;
  let refused = 0;
  let failedNew = 0;
  let failedBefore = 0;
  let status5xx = 0;
  for (const o of outcomes) {
    if (o.reused) onOpen += 1;
    if (o.answered) {
      if ((o.status ?? 0) >= 500) status5xx += 1;
      continue;
    }
    const error = o.error ?? 'unknown';
    errors[error] = (errors[error] ?? 0) + 1;
    if (!o.afterSignal) failedBefore += 1;
    if (o.reused) {
      failedOnOpen += 1;
      onOpenErrors[error] = (onOpenErrors[error] ?? 0) + 1;
    } else if (error === 'ECONNREFUSED') refused += 1;
    else failedNew += 1;
  }
  return {
    sent,
    onOpenConnections: onOpen,
    failedOnOpenConnections: failedOnOpen,
    refusedNewConnections: refused,
    failedNewConnections: failedNew,
    failedBeforeSignal: failedBefore,
    status5xx,
    errors,
    errorsOnOpenConnections: onOpenErrors,
    closedAtOnce: closes.closedAtOnce,
    closedUncertain: closes.closedUncertain,
  };
}

/**
 * Stops the app the way App Runner stops an instance, under light keep-alive load: the load runs
 * until a third of its budget is answered (at least 3 requests per connection, so the rest go out on
 * open connections; at most 3 s), SIGTERM is sent to the main process while requests are in flight,
 * the load goes on until the app exits, and SIGKILL ends the whole process group when the grace
 * window passes. Bounded by the grace window plus a few seconds.
 */
export async function runDrain(app: AppProcess, options: DrainOptions): Promise<DrainObservation> {
  const base = {
    endpoint: options.endpoint,
    ...(options.loadSkipped === undefined ? {} : { loadSkipped: options.loadSkipped }),
    graceMs: options.graceMs,
  };
  const load =
    options.endpoint === undefined
      ? undefined
      : new KeepAliveLoad({
          endpoint: options.endpoint,
          path: options.load.path,
          connections: options.load.connections,
          maxRequests: options.load.requests,
          requestTimeoutMs: Math.max(5000, options.graceMs + 2000),
        });
  const counts = () =>
    count(load?.outcomes ?? [], load?.sent ?? 0, {
      closedAtOnce: load?.closedAtOnce ?? 0,
      closedUncertain: load?.closedUncertain ?? 0,
    });

  if (!app.running) {
    return {
      ...base,
      requests: counts(),
      inFlightAtSignal: 0,
      signalled: false,
      exitedBeforeSignal: true,
      exit: app.exit,
      aliveAtGrace: false,
    };
  }

  if (load !== undefined) {
    load.start();
    const warm = Math.max(options.load.connections * 3, Math.floor(options.load.requests / 3));
    const warmUntil = performance.now() + 3000;
    while (
      app.running &&
      load.completed < warm &&
      performance.now() < warmUntil &&
      load.sent < options.load.requests
    ) {
      await pause(10);
    }
    // Signal while requests are in flight: that is when a careless shutdown drops them.
    const inFlightUntil = performance.now() + 1000;
    while (
      app.running &&
      load.inFlight === 0 &&
      performance.now() < inFlightUntil &&
      load.sent < options.load.requests
    ) {
      await pause(1);
    }
  }

  const inFlightAtSignal = load?.inFlight ?? 0;
  load?.markSignal();
  const signalledAt = performance.now();
  const signalled = app.signal('SIGTERM');
  if (!signalled) {
    load?.stop();
    if (load !== undefined) await within(load.finished, 3000);
    load?.destroy();
    return {
      ...base,
      requests: counts(),
      inFlightAtSignal: 0,
      signalled: false,
      exitedBeforeSignal: true,
      exit: app.exit,
      aliveAtGrace: false,
    };
  }

  let exit = await within(app.exited, options.graceMs);
  const aliveAtGrace = exit === undefined;
  // When the main process exits, a container's other processes go with it at once: a server behind
  // a wrapper that did not pass SIGTERM on (`npm start`, `sh -c`) must not go on answering the load.
  app.killGroup();
  if (aliveAtGrace) exit = await within(app.exited, 5000);
  const exitAfterMs = Math.round(
    exit === undefined ? performance.now() - signalledAt : exit.atMs - (signalledAt - app.startedAt),
  );
  if (load !== undefined) {
    // The app is gone, and its connections with it, but the load may not have seen them close yet
    // (on a busy machine, the exit can be seen first): stopped now, it would close them itself, and
    // an app that closed them at once would pass.
    await load.closed(1000);
    load.stop();
    // The app is gone: what is still in flight fails as soon as its socket closes.
    await within(load.finished, 3000);
    load.destroy();
    await within(load.finished, 500);
  }
  return {
    ...base,
    requests: counts(),
    inFlightAtSignal,
    signalled: true,
    exitedBeforeSignal: false,
    exit,
    exitAfterMs,
    aliveAtGrace,
  };
}
