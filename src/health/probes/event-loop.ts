import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { HealthCheck } from '../types.js';

/** A check that holds a resource (a histogram) until stopped. */
export interface StoppableCheck extends HealthCheck {
  /** Releases what the check holds; it reports pass afterwards. */
  stop(): void;
}

/** The delay histogram's sampling interval, in ms. */
const resolutionMs = 20;

/** Options of {@link eventLoopDelayProbe}. */
export interface EventLoopDelayProbeOptions {
  /** Fail when the longest delay since the previous run exceeds this many milliseconds. */
  maxDelayMs: number;
  /**
   * Warn (instead of pass) above this many milliseconds.
   * @default maxDelayMs / 2
   */
  warnDelayMs?: number;
}

/**
 * Event-loop delay, measured per interval (between two runs of the check), not cumulatively: a stall
 * an hour ago does not fail the check now. Uses Node's `monitorEventLoopDelay` histogram (20 ms
 * resolution), which keeps no timer alive.
 *
 * @example
 * ```ts
 * runtime.health.register('eventLoop', eventLoopDelayProbe({ maxDelayMs: 2000 }), { kind: 'liveness' });
 * ```
 */
export function eventLoopDelayProbe(options: EventLoopDelayProbeOptions): StoppableCheck {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  const warnAt = options.warnDelayMs ?? options.maxDelayMs / 2;
  let stopped = false;
  const check = () => {
    if (stopped) return true;
    // The histogram records the time between its samples: the delay is what exceeds the resolution.
    const maxMs = Math.round(Math.max(0, histogram.max / 1e6 - resolutionMs));
    histogram.reset();
    const status = maxMs > options.maxDelayMs ? 'fail' : maxMs > warnAt ? 'warn' : 'pass';
    return {
      status,
      observedValue: maxMs,
      observedUnit: 'ms',
      ...(status === 'pass'
        ? {}
        : { output: `event loop blocked for up to ${maxMs} ms (limit ${options.maxDelayMs} ms)` }),
    } as const;
  };
  return Object.assign(check, {
    stop: () => {
      stopped = true;
      histogram.disable();
    },
  });
}

/** Options of {@link eventLoopUtilizationProbe}. */
export interface EventLoopUtilizationProbeOptions {
  /** Fail above this share of time the event loop was busy since the previous run, from 0 to 1. */
  max: number;
}

/**
 * Event-loop utilisation (the share of time the loop was busy) since the previous run of the check.
 */
export function eventLoopUtilizationProbe(options: EventLoopUtilizationProbeOptions): HealthCheck {
  let previous = performance.eventLoopUtilization();
  return () => {
    const current = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(current, previous).utilization;
    previous = current;
    const value = Math.round(utilization * 1000) / 1000;
    return value > options.max
      ? {
          status: 'fail',
          observedValue: value,
          output: `event loop ${Math.round(value * 100)} % busy (limit ${Math.round(options.max * 100)} %)`,
        }
      : { status: 'pass', observedValue: value };
  };
}
