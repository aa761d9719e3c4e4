import type { HealthCheck } from '../types.js';

/** Options of {@link memoryProbe}: a limit left out is not checked. */
export interface MemoryProbeOptions {
  /** Fail above this many bytes of V8 heap in use. */
  maxHeapUsedBytes?: number;
  /** Fail above this many bytes of resident memory (the container's limit minus some headroom). */
  maxRssBytes?: number;
}

/**
 * Heap and resident-set size against limits; reports the RSS in bytes. A process near its container's
 * memory limit is better replaced before the kernel kills it mid-request.
 */
export function memoryProbe(options: MemoryProbeOptions): HealthCheck {
  return () => {
    const usage = process.memoryUsage();
    if (options.maxHeapUsedBytes !== undefined && usage.heapUsed > options.maxHeapUsedBytes) {
      return {
        status: 'fail',
        observedValue: usage.heapUsed,
        observedUnit: 'bytes',
        output: `heap ${usage.heapUsed} B above ${options.maxHeapUsedBytes} B`,
      };
    }
    if (options.maxRssBytes !== undefined && usage.rss > options.maxRssBytes) {
      return {
        status: 'fail',
        observedValue: usage.rss,
        observedUnit: 'bytes',
        output: `RSS ${usage.rss} B above ${options.maxRssBytes} B`,
      };
    }
    return { status: 'pass', observedValue: usage.rss, observedUnit: 'bytes' };
  };
}
