import { performance } from 'node:perf_hooks';
import { runOutsideRequestContext } from '../http/context.js';
import { withTimeout } from '../internal/timers.js';
import type {
  HealthCheck,
  HealthCheckKind,
  HealthCheckOutcome,
  HealthCheckReport,
  HealthStatus,
} from './types.js';

/** A registered check's settings, validated. */
export interface CheckSettings {
  readonly kind: HealthCheckKind;
  readonly timeoutMs: number;
  readonly critical: boolean;
  readonly minIntervalMs: number;
  readonly componentType: string | undefined;
}

/** Called when a check's status changes, with the previous status (`undefined` on the first run). */
export type StatusChangeListener = (
  name: string,
  report: HealthCheckReport,
  previous: HealthStatus | undefined,
) => void;

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function toReport(
  outcome: HealthCheckOutcome,
  durationMs: number,
  componentType: string | undefined,
): Omit<HealthCheckReport, 'time'> {
  const base = componentType === undefined ? { durationMs } : { durationMs, componentType };
  if (outcome === undefined || outcome === true) return { status: 'pass', ...base };
  if (outcome === false) return { status: 'fail', ...base, output: 'check returned false' };
  if (typeof outcome === 'object' && outcome !== null && ['pass', 'warn', 'fail'].includes(outcome.status)) {
    return { ...base, ...outcome };
  }
  return { status: 'fail', ...base, output: `check returned an invalid result: ${JSON.stringify(outcome)}` };
}

/**
 * Runs one check: bounded by its timeout, shared by concurrent callers (one run at a time), and
 * rate-limited (a new run at most every `minIntervalMs`; in between, the last result). A run that
 * hangs past its timeout is reported failing and its signal aborted; no new run starts while it is
 * still pending — piling queries onto a hung database helps no one — until `abandonAfterMs` has
 * passed since it started.
 */
export class CheckRunner {
  readonly name: string;
  readonly settings: CheckSettings;
  readonly #check: HealthCheck;
  readonly #onChange: StatusChangeListener;
  readonly #abandonAfterMs: number;
  #current: Promise<HealthCheckReport> | undefined;
  #runStartedAt = Number.NEGATIVE_INFINITY;
  #runSettled = true;
  #last: HealthCheckReport | undefined;
  #passedOnce = false;

  constructor(name: string, check: HealthCheck, settings: CheckSettings, onChange: StatusChangeListener) {
    this.name = name;
    this.#check = check;
    this.settings = settings;
    this.#onChange = onChange;
    this.#abandonAfterMs = Math.max(10 * settings.timeoutMs, settings.minIntervalMs);
  }

  /** True once the check has passed at least once (startup checks stop counting then). */
  get passedOnce(): boolean {
    return this.#passedOnce;
  }

  /** The current result: the run under way, a fresh run, or the last one within the interval. */
  result(): Promise<HealthCheckReport> {
    const now = performance.now();
    const sinceStart = now - this.#runStartedAt;
    if (this.#current !== undefined && sinceStart < this.settings.minIntervalMs) return this.#current;
    if (!this.#runSettled && sinceStart < this.#abandonAfterMs && this.#current !== undefined)
      return this.#current;
    // Shared by the health requests that come while it runs, and cached: none of theirs.
    this.#current = runOutsideRequestContext(() => this.#run(now));
    return this.#current;
  }

  async #run(startedAt: number): Promise<HealthCheckReport> {
    this.#runStartedAt = startedAt;
    this.#runSettled = false;
    const controller = new AbortController();
    let running: Promise<HealthCheckOutcome>;
    try {
      running = Promise.resolve(this.#check(controller.signal));
    } catch (error) {
      running = Promise.reject(error);
    }
    const settle = () => {
      this.#runSettled = true;
    };
    running.then(settle, settle);
    const bounded = await withTimeout(running, this.settings.timeoutMs);
    const durationMs = Math.round((performance.now() - startedAt) * 100) / 100;
    const { componentType } = this.settings;
    let partial: Omit<HealthCheckReport, 'time'>;
    if (bounded.outcome === 'fulfilled') {
      partial = toReport(bounded.value, durationMs, componentType);
    } else if (bounded.outcome === 'rejected') {
      partial = toReport(
        { status: 'fail', output: describeError(bounded.reason) },
        durationMs,
        componentType,
      );
    } else {
      controller.abort(
        new DOMException(`health check timed out after ${this.settings.timeoutMs} ms`, 'TimeoutError'),
      );
      partial = toReport(
        { status: 'fail', output: `timed out after ${this.settings.timeoutMs} ms` },
        durationMs,
        componentType,
      );
    }
    const report: HealthCheckReport = { ...partial, time: new Date().toISOString() };
    const previous = this.#last?.status;
    this.#last = report;
    if (report.status === 'pass') this.#passedOnce = true;
    if (previous !== report.status) this.#onChange(this.name, report, previous);
    return report;
  }
}
