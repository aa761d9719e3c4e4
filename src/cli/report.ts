import type { HealthCheckSettings, LoadSettings } from './check-options.js';
import type { TailLine } from './output-capture.js';

/** The grade of one check. `skip`: it could not run (the app never started, or exited first). */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** The checks, in report order. */
export type CheckId = 'listen' | 'health' | 'start' | 'drain' | 'logs' | 'files';

/** A figure of a check, as it appears in `--json`. */
export type Figure = string | number | boolean | null;

/** One row of the report. */
export interface CheckResult {
  readonly id: CheckId;
  /** What is checked, in a few words. */
  readonly title: string;
  readonly status: CheckStatus;
  /** One line with the figures that justify the grade. */
  readonly summary: string;
  /** What to change, for a warn or fail. */
  readonly hint?: string;
  /** The measurements, by stable name (milliseconds end in `Ms`). */
  readonly figures: Readonly<Record<string, Figure>>;
}

/**
 * Builds the rows of one check: `id`, `title` and `figures` fixed, the grade, summary and hint (kept
 * only when given) per outcome.
 *
 * @example
 * ```ts
 * const row = checkRow('drain', title, figures);
 * return row('warn', summary, 'exit 0 after a clean shutdown');
 * ```
 */
export function checkRow(
  id: CheckId,
  title: string,
  figures: Readonly<Record<string, Figure>>,
): (status: CheckStatus, summary: string, hint?: string) => CheckResult {
  return (status, summary, hint) => ({
    id,
    title,
    status,
    summary,
    ...(hint === undefined ? {} : { hint }),
    figures,
  });
}

/** The whole report of a run, as `--json` prints it. */
export interface CheckReport {
  readonly tool: 'apprunner-kit check';
  /** Bumped when a field changes meaning or disappears. */
  readonly schemaVersion: 1;
  readonly command: readonly string[];
  readonly cwd: string;
  readonly port: number;
  /** The machine's non-loopback address the checker connected to; `null` when it has none. */
  readonly localAddress: string | null;
  readonly health: HealthCheckSettings;
  readonly probeIntervalMs: number;
  readonly startTimeoutMs: number;
  readonly graceMs: number;
  readonly load: LoadSettings;
  readonly durationMs: number;
  readonly checks: readonly CheckResult[];
  readonly counts: Readonly<Record<CheckStatus, number>>;
  /** No check failed. */
  readonly passed: boolean;
  /** Limits of this run worth knowing (no non-loopback address, no `/proc`, a truncated file watch). */
  readonly notes: readonly string[];
  /** The app's last lines of output, stdout and stderr interleaved. */
  readonly lastLines: readonly TailLine[];
  /**
   * The line of its output that says what failed, among `lastLines` or before them: the kit's `the
   * start failed: …` (its message), else the last error message line Node printed (`Error: …`).
   */
  readonly failureLine: TailLine | null;
}

/** Counts the checks by grade. */
export function countStatuses(checks: readonly CheckResult[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const check of checks) counts[check.status] += 1;
  return counts;
}

/**
 * The exit code of `apprunner-kit check` for a report: 1 when a check failed (or, with `strict`,
 * warned), else 0. Usage errors exit 2 before any report exists.
 */
export function exitCodeOf(report: CheckReport, strict = false): 0 | 1 {
  if (report.counts.fail > 0) return 1;
  return strict && report.counts.warn > 0 ? 1 : 0;
}
