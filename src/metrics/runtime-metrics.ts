import {
  type EventLoopUtilization,
  type IntervalHistogram,
  monitorEventLoopDelay,
  PerformanceObserver,
  performance,
} from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { EmfGroup, EmfMetric } from './emf-lines.js';
import type { MetricSource } from './source.js';

/**
 * The runtime metrics' names and units, as CloudWatch shows them (`metrics.runtime`). One datapoint
 * each per flush interval, with the default dimensions only.
 */
export const runtimeMetricNames = Object.freeze({
  /** Event-loop delay, median of the interval (sampled every 20 ms). */
  EventLoopDelayP50: 'Milliseconds',
  /** Event-loop delay, 99th percentile of the interval. */
  EventLoopDelayP99: 'Milliseconds',
  /** Event-loop delay, the longest of the interval. */
  EventLoopDelayMax: 'Milliseconds',
  /** Share of the interval the event loop was busy running JavaScript or native work (0–100). */
  EventLoopUtilization: 'Percent',
  /** V8 heap in use at the flush. */
  HeapUsed: 'Bytes',
  /** V8 heap size limit (`--max-old-space-size`, or V8's default from the container's memory). */
  HeapLimit: 'Bytes',
  /** Resident set size of the process at the flush. */
  Rss: 'Bytes',
  /** Memory of C++ objects bound to JavaScript ones (Buffers included) at the flush. */
  ExternalMemory: 'Bytes',
  /** Time spent in garbage-collection pauses during the interval. */
  GcPauseTime: 'Milliseconds',
  /** Garbage collections during the interval. */
  GcCount: 'Count',
  /** Active handles and requests (sockets, timers, file operations) at the flush. */
  ActiveResources: 'Count',
} as const);

/** One of {@link runtimeMetricNames}. */
export type RuntimeMetricName = keyof typeof runtimeMetricNames;

const nsPerMs = 1e6;
/** The event-loop delay histogram's sampling interval. */
const resolutionMs = 20;

/**
 * Runtime figures of the process, sampled per flush interval rather than per request (a request
 * pays nothing for them): an event-loop delay histogram (`monitorEventLoopDelay`, 20 ms
 * resolution), the event-loop utilisation since the last flush, V8's heap statistics,
 * `process.memoryUsage()`, and garbage-collection pauses from a `PerformanceObserver` of `gc`
 * entries (one callback per batch of collections). What they tell: a high event-loop delay with high
 * utilisation is a CPU-bound instance; a slow service with a calm event loop waits on a dependency.
 */
export class RuntimeMetricsSource implements MetricSource {
  readonly #dimensions: Readonly<Record<string, string>>;
  readonly #delay: IntervalHistogram;
  readonly #gc: PerformanceObserver;
  #utilization: EventLoopUtilization = performance.eventLoopUtilization();
  #gcPauseMs = 0;
  #gcCount = 0;
  #stopped = false;

  constructor(dimensions: Readonly<Record<string, string>>) {
    this.#dimensions = dimensions;
    this.#delay = monitorEventLoopDelay({ resolution: resolutionMs });
    this.#delay.enable();
    this.#gc = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        this.#gcPauseMs += entry.duration;
        this.#gcCount++;
      }
    });
    this.#gc.observe({ entryTypes: ['gc'] });
  }

  collect(groups: EmfGroup[]): void {
    if (this.#stopped) return;
    const metrics: EmfMetric[] = [];
    const add = (name: RuntimeMetricName, value: number) => {
      if (Number.isFinite(value)) metrics.push({ name, unit: runtimeMetricNames[name], value: round(value) });
    };
    // No sample yet (an interval shorter than the resolution): no delay figures, rather than zeros.
    // The histogram records the time between its samples: the delay is what exceeds the resolution.
    if (this.#delay.count > 0) {
      const delay = (ns: number) => Math.max(0, ns / nsPerMs - resolutionMs);
      add('EventLoopDelayP50', delay(this.#delay.percentile(50)));
      add('EventLoopDelayP99', delay(this.#delay.percentile(99)));
      add('EventLoopDelayMax', delay(this.#delay.max));
    }
    this.#delay.reset();
    const now = performance.eventLoopUtilization();
    add('EventLoopUtilization', performance.eventLoopUtilization(now, this.#utilization).utilization * 100);
    this.#utilization = now;
    const heap = getHeapStatistics();
    const memory = process.memoryUsage();
    add('HeapUsed', heap.used_heap_size);
    add('HeapLimit', heap.heap_size_limit);
    add('Rss', memory.rss);
    add('ExternalMemory', memory.external);
    add('GcPauseTime', this.#gcPauseMs);
    add('GcCount', this.#gcCount);
    this.#gcPauseMs = 0;
    this.#gcCount = 0;
    add('ActiveResources', process.getActiveResourcesInfo().length);
    groups.push({ dimensions: this.#dimensions, metrics });
  }

  /** Stops sampling. Safe to call twice. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#delay.disable();
    this.#gc.disconnect();
  }
}

/** Three decimals: a millisecond figure to the microsecond, and no binary noise in the JSON. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
