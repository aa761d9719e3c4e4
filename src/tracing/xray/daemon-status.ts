import type { Logger } from 'pino';
import { runOutsideRequestContext } from '../../http/context.js';

/** The two ways the kit reaches the daemon: segments over UDP, sampling rules over TCP. */
export type DaemonChannel = 'udp' | 'sampling';

/** The X-Ray API calls the daemon makes for the sampler. */
export type SamplingOperation = 'GetSamplingRules' | 'GetSamplingTargets';

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
  readonly #refusing = new Set<SamplingOperation>();
  #refusedThisTurn = false;
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

  /**
   * The daemon answered a sampling call with the X-Ray API's refusal (`statusCode` not 200: access
   * denied, throttled): the daemon works, the API does not serve this instance. Logged once per
   * streak of refusals of `operation`, with what it means for sampling.
   */
  refused(operation: SamplingOperation, statusCode: number, detail: string): void {
    // The SDK reads the same answer right after, in the same turn, and may call it a failure.
    this.#refusedThisTurn = true;
    queueMicrotask(() => {
      this.#refusedThisTurn = false;
    });
    if (this.#refusing.has(operation)) return;
    this.#refusing.add(operation);
    const denied = statusCode === 401 || statusCode === 403 || /AccessDenied|not authorized/i.test(detail);
    const effect =
      operation === 'GetSamplingRules'
        ? 'centralized sampling rules are not fetched: those fetched last apply for up to an hour, then the local rules'
        : 'sampling quotas are not renewed: each centralized rule keeps its fixed rate, and its reservoir lapses';
    const fix = denied
      ? ` Give the instance role xray:GetSamplingRules and xray:GetSamplingTargets.`
      : statusCode === 429
        ? ' The X-Ray API throttles the calls of every instance of the account and region together.'
        : '';
    runOutsideRequestContext(() =>
      this.#logger.warn(
        { tracing: { daemon: this.#daemon, operation, statusCode, detail } },
        `the X-Ray API refused ${operation} through the daemon at ${this.#daemon} (HTTP ${statusCode}): ${effect}, until it answers (logged once).${fix}`,
      ),
    );
  }

  /** The X-Ray API answered `operation` again, after {@link refused}. */
  accepted(operation: SamplingOperation): void {
    if (!this.#refusing.delete(operation)) return;
    runOutsideRequestContext(() =>
      this.#logger.info(
        { tracing: { daemon: this.#daemon, operation } },
        `the X-Ray API answers ${operation} again`,
      ),
    );
  }

  /**
   * True in the turn the daemon answered a sampling call with the X-Ray API's refusal: the failure the
   * SDK then reports is that refusal, not a daemon that does not answer.
   */
  get refusedThisTurn(): boolean {
    return this.#refusedThisTurn;
  }

  /** Counts `count` segments dropped while the daemon does not answer. */
  droppedWhileDown(count = 1): void {
    this.#droppedWhileDown += count;
  }
}
