import type { AppProcess } from './app-process.js';
import { tryConnect } from './health-probe.js';
import { bindingOf, type ListeningSocket, listeningSocketsOfGroup } from './listening-sockets.js';
import type { LocalAddress } from './local-address.js';
import { pause } from './timing.js';

/**
 * What the app listens on, as far as App Runner is concerned:
 * - `all-interfaces`: `$PORT` accepts on loopback and on the machine's address;
 * - `address-only`: `$PORT` accepts on one non-loopback address only;
 * - `loopback-only`: `$PORT` accepts on 127.0.0.1 (or ::1) only — unreachable by App Runner;
 * - `unverified`: `$PORT` accepts on loopback, and neither a non-loopback address nor `/proc` can tell more;
 * - `other-port`: the app listens, but not on `$PORT`;
 * - `never`: nothing listens by the deadline; `exited`: the app ended first; `not-started`: it could not start.
 */
export type ListenVerdict =
  | 'all-interfaces'
  | 'address-only'
  | 'loopback-only'
  | 'unverified'
  | 'other-port'
  | 'never'
  | 'exited'
  | 'not-started';

/** What {@link watchListening} observed. */
export interface ListenObservation {
  readonly verdict: ListenVerdict;
  /** Milliseconds from the start until `$PORT` first accepted (or was seen listening). */
  readonly listeningAtMs?: number;
  /** `$PORT` accepted a connection on 127.0.0.1. */
  readonly loopbackAccepts: boolean;
  /** `$PORT` accepted a connection on the local address; `undefined` without one. */
  readonly addressAccepts: boolean | undefined;
  /** The app's listening sockets from `/proc`; `undefined` where `/proc` is unavailable. */
  readonly sockets: readonly ListeningSocket[] | undefined;
  /** Milliseconds the watch took. */
  readonly watchedMs: number;
}

/** Options of {@link watchListening}. */
export interface ListenWatchOptions {
  readonly port: number;
  readonly localAddress: LocalAddress | undefined;
  /** Give up this many ms after the app started. */
  readonly deadlineMs: number;
  /** Once the app listens somewhere App Runner cannot reach, wait this long for `$PORT` before concluding. @default 3000 */
  readonly settleMs?: number;
  /** Poll period. @default 100 */
  readonly pollMs?: number;
}

const connectTimeoutMs = 500;

async function look(app: AppProcess, options: ListenWatchOptions) {
  const [loopback, address, sockets] = await Promise.all([
    tryConnect({ host: '127.0.0.1', port: options.port }, connectTimeoutMs),
    options.localAddress === undefined
      ? undefined
      : tryConnect({ host: options.localAddress.address, port: options.port }, connectTimeoutMs),
    app.pid === undefined ? undefined : listeningSocketsOfGroup(app.pid),
  ]);
  return { loopbackAccepts: loopback.ok, addressAccepts: address?.ok, sockets };
}

function classify(
  seen: Awaited<ReturnType<typeof look>>,
  port: number,
): 'all-interfaces' | 'address-only' | 'loopback-only' | 'unverified' | undefined {
  const onPort = seen.sockets?.filter((s) => s.port === port) ?? [];
  if (seen.addressAccepts !== undefined) {
    if (seen.addressAccepts) return seen.loopbackAccepts ? 'all-interfaces' : 'address-only';
    if (seen.loopbackAccepts) return 'loopback-only';
    if (onPort.length === 0) return undefined;
    // Neither address takes IPv4: IPv6 loopback (`::1`) is loopback all the same.
    return onPort.every((s) => bindingOf(s.address) === 'loopback') ? 'loopback-only' : 'address-only';
  }
  // No address to test with: what the sockets are bound to decides.
  if (onPort.some((s) => bindingOf(s.address) === 'all')) return 'all-interfaces';
  if (onPort.some((s) => bindingOf(s.address) === 'address')) return 'address-only';
  if (onPort.length > 0) return 'loopback-only';
  return seen.loopbackAccepts ? 'unverified' : undefined;
}

/**
 * Watches a starting app until it listens on `$PORT` — and on what — or listens elsewhere, exits, or
 * the deadline passes. Each poll tries `$PORT` on 127.0.0.1 and on the machine's own non-loopback
 * address, and reads the app's listening sockets from `/proc`. A first sighting is confirmed by a
 * second look, so an app that binds between two connection attempts is not misread.
 */
export async function watchListening(
  app: AppProcess,
  options: ListenWatchOptions,
): Promise<ListenObservation> {
  const settleMs = options.settleMs ?? 3000;
  const pollMs = options.pollMs ?? 100;
  const deadline = app.startedAt + options.deadlineMs;
  let elsewhereSince: number | undefined;
  let last: Awaited<ReturnType<typeof look>> = {
    loopbackAccepts: false,
    addressAccepts: undefined,
    sockets: undefined,
  };
  const observation = (verdict: ListenVerdict, listeningAtMs?: number): ListenObservation => ({
    verdict,
    ...(listeningAtMs === undefined ? {} : { listeningAtMs }),
    loopbackAccepts: last.loopbackAccepts,
    addressAccepts: last.addressAccepts,
    sockets: last.sockets,
    watchedMs: Math.round(performance.now() - app.startedAt),
  });
  if (app.pid === undefined) return observation('not-started');

  for (;;) {
    if (!app.running) return observation('exited');
    const pollStarted = performance.now();
    last = await look(app, options);
    if (!app.running) return observation('exited');
    if (classify(last, options.port) !== undefined) {
      const atMs = Math.round(pollStarted - app.startedAt);
      last = await look(app, options);
      const verdict = classify(last, options.port);
      if (verdict !== undefined) return observation(verdict, atMs);
    }
    const now = performance.now();
    if ((last.sockets?.length ?? 0) > 0) elsewhereSince ??= now;
    if (elsewhereSince !== undefined && now - elsewhereSince >= settleMs) return observation('other-port');
    if (now >= deadline) return observation((last.sockets?.length ?? 0) > 0 ? 'other-port' : 'never');
    await pause(Math.min(pollMs, Math.max(0, deadline - now)));
  }
}
