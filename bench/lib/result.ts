/**
 * `bench-result:` lines: one figure of a bench as JSON on a line of its own, for bench/run-all.ts to
 * gather across runs (the per-request tables of every Node.js line side by side). BENCHMARKS.md
 * leaves them out of a bench's own section.
 */
export interface BenchResult {
  readonly bench: string;
  /** The Node.js version the app ran on (`v24.22.3`). */
  readonly node: string;
  readonly framework: string;
  readonly variant: string;
  /** App CPU µs per request added over the bare app, median of the rounds. */
  readonly addedCpuUs?: number;
  readonly bareCpuUs?: number;
  /** Throughput as a share of the baseline's. */
  readonly ratio?: number;
}

const prefix = 'bench-result: ';

/** The line that carries `result`. */
export function resultLine(result: BenchResult): string {
  return `${prefix}${JSON.stringify(result)}`;
}

/** The result a line carries, or `undefined` for any other line. */
export function parseResultLine(line: string): BenchResult | undefined {
  return line.startsWith(prefix) ? (JSON.parse(line.slice(prefix.length)) as BenchResult) : undefined;
}
