import type { Logger } from 'pino';
import { runOutsideRequestContext } from '../../http/context.js';
import { omittedAnnotation } from './fit-document.js';

/** The quiet time after each warning about documents too large for a datagram. */
export const oversizeWarnIntervalMs = 60_000;

/** What one warning covers: the documents cut or dropped since the last one. */
interface Period {
  shrunk: number;
  dropped: number;
  largestBytes: number;
  traceId: string | undefined;
}

/**
 * Counts the documents larger than a UDP datagram — sent with parts left out, or dropped — and warns
 * about them at most once a minute, with the counts since the last warning: the first at once, the
 * ones after it when the minute is over (an `unref()`ed timer), or at `close()`. One request that
 * always records too much makes one line a minute, not one per request, nor one per process.
 *
 * @example
 * ```ts
 * const report = new OversizeReport(logger, '127.0.0.1:2000', 65_507);
 * report.dropped(82_104, traceId); // a warning now
 * report.shrunk(70_000, traceId); // counted into the next, a minute later
 * ```
 */
export class OversizeReport {
  readonly #logger: Logger;
  readonly #daemon: string;
  readonly #limit: number;
  #period: Period = { shrunk: 0, dropped: 0, largestBytes: 0, traceId: undefined };
  #quietUntil = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `daemon` names it in the lines; `limit` is the largest datagram, in bytes. */
  constructor(logger: Logger, daemon: string, limit: number) {
    this.#logger = logger;
    this.#daemon = daemon;
    this.#limit = limit;
  }

  /** A document of `bytes` (when known) was sent with parts left out to fit. */
  shrunk(bytes: number, traceId: string | undefined): void {
    this.#period.shrunk += 1;
    this.#count(bytes, traceId);
  }

  /** A document of `bytes` (when known) was dropped, and its subsegments not sent without it. */
  dropped(bytes: number | undefined, traceId: string | undefined): void {
    this.#period.dropped += 1;
    this.#count(bytes, traceId);
  }

  /** Writes what was counted since the last warning, and stops the timer. Safe to call twice. */
  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#write();
  }

  #count(bytes: number | undefined, traceId: string | undefined): void {
    const period = this.#period;
    if (bytes !== undefined && bytes > period.largestBytes) period.largestBytes = bytes;
    if (traceId !== undefined) period.traceId = traceId;
    const now = Date.now();
    if (now >= this.#quietUntil) {
      this.#write();
      return;
    }
    if (this.#timer !== undefined) return;
    // Made in a request's send: its callback must not carry that request's context.
    runOutsideRequestContext(() => {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#write();
      }, this.#quietUntil - now);
      this.#timer.unref();
    });
  }

  #write(): void {
    const { shrunk, dropped, largestBytes, traceId } = this.#period;
    if (shrunk + dropped === 0) return;
    this.#period = { shrunk: 0, dropped: 0, largestBytes: 0, traceId: undefined };
    this.#quietUntil = Date.now() + oversizeWarnIntervalMs;
    const count = shrunk + dropped;
    const tracing = {
      daemon: this.#daemon,
      oversize: { shrunk, dropped, ...(largestBytes > 0 ? { largestBytes } : {}), traceId },
    };
    // Not on a request's line: it counts other requests' segments too.
    runOutsideRequestContext(() =>
      this.#logger.warn(
        { tracing },
        `tracing: ${count} ${count === 1 ? 'segment' : 'segments'} larger than a UDP datagram (${this.#limit} bytes): ` +
          `${shrunk} sent with parts left out (their annotation ${omittedAnnotation} names which), ${dropped} dropped. ` +
          'Keep large values out of span attributes and error messages, and log them instead ' +
          '(at most one such line a minute, with the counts since the last)',
      ),
    );
  }
}
