/**
 * Command-line flags of the benches: `--name value`. A flag given last, with no value after it, reads
 * as `undefined` (a string) or NaN (a number).
 */

/** The value after `--name`, or `fallback` when the flag is not given. */
export function argString(name: string): string | undefined;
export function argString(name: string, fallback: string): string;
export function argString(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}

/** The value after `--name` as a number, or `fallback` when the flag is not given. */
export function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
