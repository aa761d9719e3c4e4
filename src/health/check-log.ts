import type { Logger } from 'pino';
import type { HealthCheckKind, HealthCheckReport, HealthStatus } from './types.js';

/**
 * Distinct errors of one check written while it keeps failing (or warning): a cause that changes
 * (a timeout, then the real error) is seen, and an error whose text changes every run (an id, a
 * count in it) writes a few lines, not one per probe.
 */
const maxOutputsPerStreak = 5;

/**
 * Decides which of a check's results reach the log: a status change, and while it stays failing,
 * each new error text — once, up to {@link maxOutputsPerStreak}; the same error again is not
 * written, however often it is probed or however it alternates with another. A startup check
 * whose run is still pending at its timeout has not failed: the work it waits for (migrations)
 * is running, so that is an `info` line, not an `error` one on every deployment.
 */
export class CheckLog {
  readonly #name: string;
  readonly #kind: HealthCheckKind;
  readonly #critical: boolean;
  readonly #logger: Logger;
  #status: HealthStatus | undefined;
  /** The error texts written since the status last changed. */
  readonly #written = new Set<string>();
  #quiet = false;

  constructor(name: string, kind: HealthCheckKind, critical: boolean, logger: Logger) {
    this.#name = name;
    this.#kind = kind;
    this.#critical = critical;
    this.#logger = logger;
  }

  /**
   * Takes the report of a run that just ended; `timedOut` when the check had not settled,
   * `passedBefore` when an earlier run of it passed (the runner's count, not kept twice).
   */
  record(report: HealthCheckReport, timedOut: boolean, passedBefore: boolean): void {
    const previous = this.#status;
    this.#status = report.status;
    if (previous !== report.status) {
      this.#written.clear();
      this.#quiet = false;
    }
    const name = this.#name;
    const fields = {
      check: name,
      status: report.status,
      previous,
      critical: this.#critical,
      output: report.output,
    };
    if (report.status === 'pass') {
      if (previous !== undefined && previous !== 'pass') {
        this.#logger.info(fields, `health check "${name}" ${passedBefore ? 'passes again' : 'passes'}`);
      }
      return;
    }
    const output = report.output ?? '';
    if (this.#written.has(output)) return;
    if (this.#written.size >= maxOutputsPerStreak) {
      if (!this.#quiet) {
        this.#quiet = true;
        this.#logger.warn(
          { check: name, status: report.status, critical: this.#critical },
          `health check "${name}" keeps ${report.status === 'warn' ? 'warning' : 'failing'} with errors that change: no more of them are logged until its status changes`,
        );
      }
      return;
    }
    this.#written.add(output);
    if (timedOut && this.#kind === 'startup' && !passedBefore) {
      this.#logger.info(fields, `health check "${name}" has not passed yet: still running (${output})`);
    } else if (report.status === 'warn' || !this.#critical) {
      this.#logger.warn(
        fields,
        `health check "${name}" ${report.status === 'warn' ? 'warns' : 'fails'}: ${output}`,
      );
    } else {
      this.#logger.error(fields, `health check "${name}" fails: ${output}`);
    }
  }
}
