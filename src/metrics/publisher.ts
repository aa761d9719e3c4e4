import type { Logger } from 'pino';
import { StdoutDestination } from '../logging/stdout-destination.js';
import { type EmfGroup, emfLines } from './emf-lines.js';
import { emfLimits } from './limits.js';
import type { MetricSource } from './source.js';

/**
 * Where EMF lines go: anything with `write(line)` (each line ends with a newline). The kit's stdout
 * writer by default; tests pass a collector, as they do for `logging.destination`.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * await bootstrapAppRunner({ app, metrics: { destination: { write: (line) => lines.push(line) } } });
 * ```
 */
export interface MetricsDestination {
  write(line: string): unknown;
  /** Writes what is queued before the process exits; called when metrics are flushed at exit. */
  flushSync?(): void;
}

/** Settings of the {@link MetricsPublisher}. */
export interface MetricsPublisherSettings {
  readonly namespace: string;
  readonly flushIntervalMs: number;
  readonly destination: MetricsDestination;
  readonly sources: readonly MetricSource[];
  readonly logger?: Logger | undefined;
}

/**
 * Flushes the metric sources as EMF lines: every `flushIntervalMs` on an unref'd timer (it never
 * keeps the process alive), on demand, once more when stopped if the shutdown's own flush did not
 * run (a forced exit), and at process exit if it was never stopped. Lines go to the destination
 * whole, one `write` each: on the kit's stdout writer they never interleave with log lines.
 */
export class MetricsPublisher {
  readonly #settings: MetricsPublisherSettings;
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #stopped = false;
  #finalDone = false;
  #failureLogged = false;
  /** EMF lines the destination dropped since the last flush that wrote every line. */
  #droppedLines = 0;
  /** Dimension sets whose lines were said to be over the budget: once each. */
  readonly #oversizeSaid = new Set<string>();

  constructor(settings: MetricsPublisherSettings) {
    this.#settings = settings;
  }

  /** Starts the interval and the exit hook. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#timer = setInterval(() => this.flush(), this.#settings.flushIntervalMs);
    this.#timer.unref();
    process.on('exit', this.#onExit);
  }

  /**
   * Writes every source's groups now; returns the number of lines written. Never throws: a failure
   * is logged (once until a flush succeeds again) and that interval's metrics are lost.
   */
  flush(): number {
    try {
      const groups: EmfGroup[] = [];
      for (const source of this.#settings.sources) source.collect(groups);
      if (groups.length === 0) return 0;
      const options = { namespace: this.#settings.namespace, timestamp: Date.now() };
      let written = 0;
      for (const group of groups) {
        for (const line of emfLines(group, options)) {
          if (line.length > emfLimits.lineBudgetBytes) this.#oversize(group, line.length);
          if (this.#write(`${line}\n`)) written++;
          else this.#droppedLines++;
        }
      }
      this.#failureLogged = false;
      this.#reportDroppedLines(written);
      return written;
    } catch (error) {
      if (!this.#failureLogged) {
        this.#failureLogged = true;
        this.#settings.logger?.error({ err: error }, 'metrics: writing the EMF lines failed');
      }
      return 0;
    }
  }

  /**
   * Writes one line; false when the kit's stdout writer dropped it. On that writer an EMF line is a
   * reserved one, kept past the backlog that drops log lines: it carries a whole interval. Another
   * destination's return value is its own (a stream's `false` asks to wait, it drops nothing).
   */
  #write(line: string): boolean {
    const { destination } = this.#settings;
    if (destination instanceof StdoutDestination) return destination.write(line, true);
    destination.write(line);
    return true;
  }

  /**
   * Says how many EMF lines the destination dropped (stdout took nothing while its backlog was
   * full), once a flush gets its lines through and stdout takes log lines again: said before, the
   * line saying it would be dropped in turn.
   */
  #reportDroppedLines(written: number): void {
    const dropped = this.#droppedLines;
    if (dropped === 0 || written === 0) return;
    const { destination } = this.#settings;
    if (destination instanceof StdoutDestination && !destination.takesLines) return;
    this.#droppedLines = 0;
    this.#settings.logger?.error(
      { metrics: { linesDropped: dropped } },
      `metrics: ${dropped} EMF line${dropped === 1 ? '' : 's'} dropped while stdout took nothing (their intervals' metrics are lost)`,
    );
  }

  /**
   * A line over the budget: a metric with its dimensions alone does not fit (long dimension values).
   * Written all the same (CloudWatch takes it where nothing cuts stdout lines), and said once per
   * set of dimension names.
   */
  #oversize(group: EmfGroup, bytes: number): void {
    const names = Object.keys(group.dimensions);
    const key = names.join('\u0000');
    if (this.#oversizeSaid.has(key) || this.#oversizeSaid.size >= 100) return;
    this.#oversizeSaid.add(key);
    this.#settings.logger?.warn(
      { metrics: { lineBytes: bytes, dimensions: names } },
      `metrics: an EMF line of ${bytes} bytes is over ${emfLimits.lineBudgetBytes}, its dimension values too long to split it; Docker cuts stdout lines at 16 KiB and ECS's awslogs driver in non-blocking mode loses the pieces: shorten the dimension values (said once per set of dimensions)`,
    );
  }

  /** The shutdown's flush: after it, {@link MetricsPublisher.stop} writes nothing more. */
  flushFinal(): number {
    this.#finalDone = true;
    return this.flush();
  }

  /**
   * Stops the interval and the exit hook; flushes what is left unless the shutdown's flush already
   * ran. Safe to call twice.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    process.off('exit', this.#onExit);
    if (this.#started && !this.#finalDone) this.flush();
  }

  // Runs after the kit's stdout writer wrote its last lines at exit (its listener came first), so it
  // writes its own through once more.
  readonly #onExit = (): void => {
    if (this.flush() > 0) this.#settings.destination.flushSync?.();
  };
}
