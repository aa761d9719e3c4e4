import { heapLimitWarning } from '../../internal/heap-limit.js';
import type { HealthCheck } from '../types.js';

/** Options of {@link memoryProbe}: a limit left out is not checked. */
export interface MemoryProbeOptions {
  /**
   * Fail above this many bytes of V8 heap in use. Set it under the heap limit (`--max-old-space-size`):
   * at or above it, the process runs out of memory before the check fails, and a process warning
   * (`ARK_HEAP_THRESHOLD_UNREACHABLE`, a `warn` line while the kit runs) says so once, at creation.
   */
  maxHeapUsedBytes?: number;
  /** Fail above this many bytes of resident memory (the container's limit minus some headroom). */
  maxRssBytes?: number;
}

/**
 * Heap and resident-set size against limits; reports the RSS in bytes. A process near its container's
 * memory limit is better replaced before the kernel kills it mid-request.
 *
 * @example
 * ```ts
 * runtime.health.register('memory', memoryProbe({ maxRssBytes: 900 * 2 ** 20 }), { kind: 'liveness' });
 * ```
 */
export function memoryProbe(options: MemoryProbeOptions): HealthCheck {
  const overLimit = heapLimitWarning(options.maxHeapUsedBytes, {
    option: "memoryProbe's maxHeapUsedBytes",
    missed: 'before the check fails',
  });
  // A factory has no logger: a process warning reaches the kit's log while it runs, stderr otherwise.
  if (overLimit !== undefined) {
    process.emitWarning(overLimit.message, { code: 'ARK_HEAP_THRESHOLD_UNREACHABLE' });
  }
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
