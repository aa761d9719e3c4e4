import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { readNodeOptions } from '../config/node-flags.js';

/** What a heap threshold the heap can never reach is warned of with: the two numbers and the text. */
export interface HeapLimitWarning {
  readonly fields: { readonly maxHeapUsedBytes: number; readonly heapLimit: number };
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
 * The most heap in use the process gets to, and what sets it: the old generation's limit that
 * `--max-old-space-size-percentage` (a share of the memory the process may use, which wins, as in
 * Node; Node's config file can give it too) or `--max-old-space-size` gives, on the command line or
 * in `NODE_OPTIONS`; else V8's whole
 * heap limit. `heap_size_limit` adds the young generation's room to the old one's, which the heap in
 * use never fills as the process runs out of memory: 320 MiB under `--max-old-space-size=128` on
 * Node 24, where the process dies at about 130 MB in use.
 */
function heapLimit(): { readonly bytes: number; readonly source: string; readonly raise: string } {
  const v8Limit = getHeapStatistics().heap_size_limit;
  let size: string | undefined;
  let percentage: string | undefined;
  for (const given of readNodeOptions(process.execArgv, process.env.NODE_OPTIONS).flags) {
    if (given.startsWith('--max-old-space-size=')) size = given;
    else if (given.startsWith('--max-old-space-size-percentage=')) percentage = given;
  }
  const flag = percentage ?? size;
  const value = Number(flag?.slice(flag.indexOf('=') + 1));
  const bytes = flag === percentage ? (value / 100) * memoryAvailable() : value * 2 ** 20;
  if (flag === undefined || !(bytes > 0) || bytes >= v8Limit) {
    return {
      bytes: v8Limit,
      source: "V8's heap limit (--max-old-space-size raises it)",
      raise: '--max-old-space-size',
    };
  }
  return {
    bytes: Math.floor(bytes),
    source: `the heap's limit (${flag})`,
    raise: flag.slice(0, flag.indexOf('=')),
  };
}

/** The memory the process may use, as Node reads it for `--max-old-space-size-percentage`. */
function memoryAvailable(): number {
  const total = totalmem();
  const constrained = process.constrainedMemory();
  return constrained > 0 && constrained < total ? constrained : total;
}

/**
 * The warning for a `maxHeapUsedBytes` at or above the heap's limit, which the heap never gets to:
 * the process dies out of memory first, and the threshold never acts. `undefined` for a threshold
 * under the limit, or none. Read once, where the option is taken.
 */
export function heapLimitWarning(
  maxHeapUsedBytes: number | undefined,
  { option, missed, roomFor }: HeapLimitWording,
): HeapLimitWarning | undefined {
  if (maxHeapUsedBytes === undefined) return undefined;
  const limit = heapLimit();
  if (maxHeapUsedBytes < limit.bytes) return undefined;
  const room = roomFor === undefined ? '' : `, with room for ${roomFor}`;
  return {
    fields: { maxHeapUsedBytes, heapLimit: limit.bytes },
    message: `${option} (${maxHeapUsedBytes} bytes, ${mib(maxHeapUsedBytes)}) is at or above ${limit.source}, ${limit.bytes} bytes (${mib(limit.bytes)}): the heap never gets there, so the process runs out of memory ${missed}; set it under the limit${room} (such as ${Math.floor(limit.bytes * 0.8)}, 80 % of it), or raise ${limit.raise}`,
  };
}
