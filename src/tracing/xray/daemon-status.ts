import type { Logger } from 'pino';
import { runOutsideRequestContext } from '../../http/context.js';

/** The two ways the kit reaches the daemon: segments over UDP, sampling rules over TCP. */
export type DaemonChannel = 'udp' | 'sampling';

/**
 * Logs an X-Ray daemon outage once: a warning when the first channel fails, an info line when
 * every failed channel works again — not a line per segment or per poll.
 *
 * @example
 * ```ts
 * const status = new DaemonStatus(logger, '127.0.0.1:2000', true);
 * status.failed('udp', error); // one warning
 * status.failed('udp', error); // nothing more
 * ```
 */
export class DaemonStatus {
  readonly #logger: Logger;
  readonly #daemon: string;
  readonly #failing = new Set<DaemonChannel>();
  readonly #sampling: boolean;
  #droppedWhileDown = 0;
  /** Called when UDP works again while sampling still fails: the sampler refreshes its rules now. */
  onUdpRecovered: (() => void) | undefined;

  /** `daemon` names it in the log lines; `sampling` says whether rules are fetched from it. */
  constructor(logger: Logger, daemon: string, sampling: boolean) {
    this.#logger = logger;
    this.#daemon = daemon;
    this.#sampling = sampling;
  }

  /** True while a channel fails. */
  get down(): boolean {
    return this.#failing.size > 0;
  }

  /** A channel failed. */
  failed(channel: DaemonChannel, error: unknown): void {
    if (this.#failing.has(channel)) return;
    const first = this.#failing.size === 0;
    this.#failing.add(channel);
    if (!first) return;
    const what =
      channel === 'udp'
        ? 'segments are dropped'
        : 'local sampling rules apply and segments sent to it may be lost';
    // The daemon's line, whichever request's segment or callback met the failure.
    runOutsideRequestContext(() =>
      this.#logger.warn(
        { err: error, tracing: { daemon: this.#daemon, channel } },
        `the X-Ray daemon at ${this.#daemon} does not answer: ${what} until it does (logged once per outage)`,
      ),
    );
  }

  /** A channel worked. */
  succeeded(channel: DaemonChannel): void {
    if (!this.#failing.delete(channel)) return;
    if (channel === 'udp' && this.#failing.has('sampling')) this.onUdpRecovered?.();
    if (this.#failing.size > 0) return;
    runOutsideRequestContext(() =>
      this.#logger.info(
        {
          tracing: { daemon: this.#daemon, sampling: this.#sampling ? 'centralized' : 'local' },
          droppedSegments: this.#droppedWhileDown,
        },
        'the X-Ray daemon answers again',
      ),
    );
    this.#droppedWhileDown = 0;
  }

  /** Counts a segment dropped while the daemon does not answer. */
  droppedWhileDown(): void {
    this.#droppedWhileDown += 1;
  }
}
