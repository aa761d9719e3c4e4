import { performance } from 'node:perf_hooks';
import { runOutsideRequestContext } from '../http/context.js';
import { withTimeout } from '../internal/timers.js';
import { maskCredentials } from './credentials.js';
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

/** Called with the report of each run as it ends (not again for a shared or cached one); `timedOut`
 * when the check had not settled at its timeout, `passedBefore` when an earlier run passed. */
export type RunListener = (report: HealthCheckReport, timedOut: boolean, passedBefore: boolean) => void;

/**
 * A check's error text — a thrown value, or the `output` it returned — with the credentials it quotes
 * masked and its length bounded: the text goes to the log, and to the body when errors are shown.
 */
function describeError(error: unknown): string {
  let text: string;
  try {
    text = error instanceof Error && typeof error.message === 'string' ? error.message : String(error);
  } catch {
    text = 'check failed with a value that cannot be converted to a string';
  }
  return maskCredentials(text);
}

/** Runs that may hang at once: the current one and one abandoned. */
const maxPendingRuns = 2;

const statuses: readonly unknown[] = ['pass', 'warn', 'fail'];

/** A failing report whose `output` is `output`, described already. */
function failure(
  output: string,
  durationMs: number,
  componentType: string | undefined,
): Omit<HealthCheckReport, 'time'> {
  return componentType === undefined
    ? { status: 'fail', durationMs, output }
    : { status: 'fail', durationMs, componentType, output };
}

/**
 * A check's value as a report: `false` fails; a `HealthCheckResult` says its status, and only its
 * own fields of the right types are kept (the endpoint is public, and the body must serialise); a
 * `status` that is not one of ours fails, saying so, and so does an HTTP response that is not 2xx or
 * 3xx; any other value passes (a query's rows, `'PONG'`).
 */
function toReport(
  outcome: HealthCheckOutcome,
  durationMs: number,
  componentType: string | undefined,
): Omit<HealthCheckReport, 'time'> {
  const base = componentType === undefined ? { durationMs } : { durationMs, componentType };
  if (outcome === false) return { status: 'fail', ...base, output: 'check returned false' };
  if (typeof outcome !== 'object' || outcome === null) return { status: 'pass', ...base };
  const { status, observedValue, observedUnit, output } = outcome as Partial<Record<string, unknown>>;
  if (statuses.includes(status)) {
    const report: { -readonly [K in keyof HealthCheckReport]?: HealthCheckReport[K] } = {
      status: status as HealthStatus,
      ...base,
    };
    const value = observed(observedValue);
    if (value !== undefined)
      report.observedValue = typeof value === 'string' ? maskCredentials(value) : value;
    if (typeof observedUnit === 'string') report.observedUnit = observedUnit;
    if (output !== undefined) report.output = describeError(output);
    return report as Omit<HealthCheckReport, 'time'>;
  }
  if (typeof status === 'string') {
    return {
      status: 'fail',
      ...base,
      output: `check returned status ${JSON.stringify(status.slice(0, 64))}: return { status: 'pass' | 'warn' | 'fail' }, or throw to fail`,
    };
  }
  // An HTTP client's response (`fetch`, axios, got): its status says whether the service answered.
  const { ok } = outcome as { ok?: unknown };
  if (ok === false || (typeof status === 'number' && (status < 200 || status >= 400))) {
    return { status: 'fail', ...base, output: `check returned a response with status ${String(status)}` };
  }
  return { status: 'pass', ...base };
}

/** An `observedValue` the body can hold: a finite number, a string, a boolean (a BigInt as a number
 * when exact, else as its digits). */
function observed(value: unknown): number | string | boolean | undefined {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') {
    const asNumber = Number(value);
    return Number.isSafeInteger(asNumber) ? asNumber : value.toString();
  }
  return undefined;
}

/**
 * Runs one check: bounded by its timeout, shared by concurrent callers (one run at a time), and
 * rate-limited (a new run at most every `minIntervalMs`; in between, the last result). A run that
 * hangs past its timeout is reported failing and its signal aborted; no new run starts while it is
 * still pending — piling queries onto a hung database helps no one — until `abandonAfterMs` has
 * passed since it started, and never while an abandoned run still hangs too.
 */
export class CheckRunner {
  readonly name: string;
  readonly settings: CheckSettings;
  readonly #check: HealthCheck;
  readonly #onRun: RunListener;
  readonly #abandonAfterMs: number;
  #current: Promise<HealthCheckReport> | undefined;
  #runStartedAt = Number.NEGATIVE_INFINITY;
  #runSettled = true;
  /** Runs not settled yet: the current one and those abandoned. */
  #pendingRuns = 0;
  #passedOnce = false;

  constructor(name: string, check: HealthCheck, settings: CheckSettings, onRun: RunListener) {
    this.name = name;
    this.#check = check;
    this.settings = settings;
    this.#onRun = onRun;
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
    if (!this.#runSettled && this.#current !== undefined) {
      // A hung run is joined until it is abandoned; then one more may start, but no third while
      // both still hang: each may hold a connection of the app's pool.
      if (sinceStart < this.#abandonAfterMs || this.#pendingRuns >= maxPendingRuns) return this.#current;
    }
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
    this.#pendingRuns += 1;
    const settle = () => {
      this.#pendingRuns -= 1;
      if (this.#runStartedAt === startedAt) this.#runSettled = true;
    };
    running.then(settle, settle);
    const bounded = await withTimeout(running, this.settings.timeoutMs);
    const durationMs = Math.round((performance.now() - startedAt) * 100) / 100;
    const { componentType } = this.settings;
    let partial: Omit<HealthCheckReport, 'time'>;
    if (bounded.outcome === 'fulfilled') {
      partial = toReport(bounded.value, durationMs, componentType);
    } else if (bounded.outcome === 'rejected') {
      partial = failure(describeError(bounded.reason), durationMs, componentType);
    } else {
      controller.abort(
        new DOMException(`health check timed out after ${this.settings.timeoutMs} ms`, 'TimeoutError'),
      );
      partial = failure(`timed out after ${this.settings.timeoutMs} ms`, durationMs, componentType);
    }
    const report: HealthCheckReport = { ...partial, time: new Date().toISOString() };
    const passedBefore = this.#passedOnce;
    if (report.status === 'pass') this.#passedOnce = true;
    this.#onRun(report, bounded.outcome === 'timed-out', passedBefore);
    return report;
  }
}
