import type { AppProcess } from './app-process.js';
import type { HealthCheckSettings } from './check-options.js';
import { type Endpoint, type ProbeResult, probeHealth } from './health-probe.js';
import { pause } from './timing.js';

/** One health check of the run. */
export interface HealthProbeRecord extends ProbeResult {
  /** Milliseconds from the app's start to the check's start. */
  readonly atMs: number;
}

/** What {@link waitUntilHealthy} and {@link sampleHealth} observed. */
export interface HealthObservation {
  readonly endpoint: Endpoint;
  /** Checks until the healthy threshold was met (or the wait ended), at most the last 200. */
  readonly startChecks: readonly HealthProbeRecord[];
  /** Checks made before the healthy threshold was met, all of them. */
  readonly startCheckCount: number;
  /** When the first check of the passing streak started (ms from start). */
  readonly firstPassAtMs?: number;
  /** When the healthy threshold was met (ms from start). */
  readonly healthyAtMs?: number;
  /** Why the wait ended. */
  readonly endedBy: 'healthy' | 'deadline' | 'exited' | 'unreachable';
  /** Checks made once healthy. */
  readonly samples: readonly HealthProbeRecord[];
}

/** Options of {@link waitUntilHealthy}. */
export interface HealthWaitOptions {
  readonly settings: HealthCheckSettings;
  /** Time between two checks of this run, in ms. */
  readonly probeIntervalMs: number;
  /** Give up this many ms after the app started. */
  readonly deadlineMs: number;
  /** Stop before the deadline when this says so (the app listens where App Runner cannot reach). */
  readonly giveUp?: () => boolean;
}

async function check(app: AppProcess, endpoint: Endpoint, settings: HealthCheckSettings) {
  const atMs = Math.round(performance.now() - app.startedAt);
  const result = await probeHealth(endpoint, settings);
  return { ...result, atMs };
}

/**
 * Runs the health check as App Runner would while an instance starts — every `probeIntervalMs`,
 * each bounded by the configured timeout — until `healthyThreshold` consecutive checks pass, the app
 * exits, or the deadline passes. Failures before the first healthy result are expected (the app is
 * starting) and only the deadline ends the wait, as during a deployment.
 */
export async function waitUntilHealthy(
  app: AppProcess,
  endpoint: Endpoint,
  options: HealthWaitOptions,
): Promise<Omit<HealthObservation, 'samples'>> {
  const records: HealthProbeRecord[] = [];
  let count = 0;
  let streak = 0;
  let streakStart: number | undefined;
  const deadline = app.startedAt + options.deadlineMs;
  const result = (endedBy: HealthObservation['endedBy'], healthyAtMs?: number) => ({
    endpoint,
    startChecks: records,
    startCheckCount: count,
    ...(streakStart === undefined ? {} : { firstPassAtMs: streakStart }),
    ...(healthyAtMs === undefined ? {} : { healthyAtMs }),
    endedBy,
  });
  for (;;) {
    if (!app.running) return result('exited');
    const started = performance.now();
    const record = await check(app, endpoint, options.settings);
    count += 1;
    records.push(record);
    if (records.length > 200) records.shift();
    if (record.ok) {
      streak += 1;
      streakStart ??= record.atMs;
      if (streak >= options.settings.healthyThreshold) {
        return result('healthy', Math.round(record.atMs + record.latencyMs));
      }
    } else {
      streak = 0;
      streakStart = undefined;
    }
    if (!app.running) return result('exited');
    if (options.giveUp?.() === true) return result('unreachable');
    const next = started + options.probeIntervalMs;
    if (next >= deadline) return result('deadline');
    await pause(next - performance.now());
  }
}

/** Runs `count` more checks, `probeIntervalMs` apart, for the latency figures of a healthy app. */
export async function sampleHealth(
  app: AppProcess,
  endpoint: Endpoint,
  settings: HealthCheckSettings,
  count: number,
  probeIntervalMs: number,
): Promise<HealthProbeRecord[]> {
  const samples: HealthProbeRecord[] = [];
  for (let i = 0; i < count && app.running; i += 1) {
    const started = performance.now();
    samples.push(await check(app, endpoint, settings));
    if (i < count - 1) await pause(started + probeIntervalMs - performance.now());
  }
  return samples;
}
