import { getHeapStatistics } from 'node:v8';

/** What a heap threshold the heap can never reach is warned of with: the two numbers and the text. */
export interface HeapLimitWarning {
  readonly fields: { readonly maxHeapUsedBytes: number; readonly heapSizeLimit: number };
  readonly message: string;
}

/** How {@link heapLimitWarning} words the option it warns of. */
export interface HeapLimitWording {
  /** The option, as the user wrote it (`loadShedding.maxHeapUsedBytes`). */
  readonly option: string;
  /** What never happens before the process runs out of memory (`without shedding`). */
  readonly missed: string;
  /** What the value under the limit must leave room for, if anything (`the requests in flight`). */
  readonly roomFor?: string;
}

const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;

/**
 * The warning for a `maxHeapUsedBytes` at or above V8's heap limit (`--max-old-space-size` sets it),
 * which the heap never gets to: the process dies out of memory first, and the threshold never acts.
 * `undefined` for a threshold under the limit, or none. Read once, where the option is taken.
 */
export function heapLimitWarning(
  maxHeapUsedBytes: number | undefined,
  { option, missed, roomFor }: HeapLimitWording,
): HeapLimitWarning | undefined {
  const heapSizeLimit = getHeapStatistics().heap_size_limit;
  if (maxHeapUsedBytes === undefined || maxHeapUsedBytes < heapSizeLimit) return undefined;
  const room = roomFor === undefined ? '' : `, with room for ${roomFor}`;
  return {
    fields: { maxHeapUsedBytes, heapSizeLimit },
    message: `${option} (${maxHeapUsedBytes} bytes, ${mib(maxHeapUsedBytes)}) is at or above V8's heap limit (${heapSizeLimit} bytes, ${mib(heapSizeLimit)}; --max-old-space-size sets it): the heap never gets there, so the process runs out of memory ${missed}; set it under the limit${room} (such as ${Math.floor(heapSizeLimit * 0.8)}, 80 % of it), or raise --max-old-space-size`,
  };
}
