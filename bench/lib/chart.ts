/**
 * The machine-readable side of a benchmark's output: one `bench-chart: {json}` line per table, which
 * bench/run-all.ts turns into an SVG bar chart (bench/lib/svg.ts) and a link in BENCHMARKS.md, in
 * place of the line. Run alone, a bench prints it as one more line after its table.
 */

/** One bar: a median, with the spread of the rounds when there were several. */
export interface ChartBar {
  readonly label: string;
  readonly value: number;
  readonly min?: number;
  readonly max?: number;
  /** Drawn in the accent colour: the kit's own rows. */
  readonly highlight?: boolean;
}

/** A chart of one table's key figure. */
export interface ChartData {
  /** File name under docs/benchmarks/, without `.svg`: lower case, digits and dashes. */
  readonly id: string;
  readonly title: string;
  /** What the bars measure, with its unit ("app CPU µs per request"). */
  readonly unit: string;
  readonly bars: readonly ChartBar[];
  /** A vertical line, e.g. a target or the baseline's value. */
  readonly marker?: { readonly value: number; readonly label: string };
  /** Digits after the decimal point in the value labels. @default 1 */
  readonly digits?: number;
}

/** The prefix run-all.ts looks for. */
export const chartLinePrefix = 'bench-chart: ';

/** `chart` as one `bench-chart:` line. */
export function chartLine(chart: ChartData): string {
  return `${chartLinePrefix}${JSON.stringify(chart)}`;
}

/** Prints `chart` as one `bench-chart:` line. */
export function printChart(chart: ChartData): void {
  console.log(chartLine(chart));
}

/** Parses a `bench-chart:` line, or returns undefined for any other line. */
export function parseChartLine(line: string): ChartData | undefined {
  if (!line.startsWith(chartLinePrefix)) return undefined;
  return JSON.parse(line.slice(chartLinePrefix.length)) as ChartData;
}
