import { execFileSync } from 'node:child_process';
import { argString } from './args.js';

const root = new URL('../..', import.meta.url).pathname;

/**
 * The Node.js binary the benchmark apps run on: `--node 22` (a supported line, installed and cached
 * by scripts/node.sh), `--node /path/to/node`, or, without the flag, the one running the harness.
 * The harness and the load generator stay where they are; only the app under test changes line.
 */
export function appNode(): string {
  const wanted = argString('node');
  if (wanted === undefined) return process.execPath;
  if (/^\d+$/.test(wanted)) {
    const bin = execFileSync('bash', [`${root}scripts/node.sh`, wanted], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    return `${bin}/node`;
  }
  return wanted;
}

let cached: { readonly binary: string; readonly version: string } | undefined;

/** {@link appNode}'s binary and its `--version` (`v24.22.3`), resolved once per run. */
export function appNodeLine(): { readonly binary: string; readonly version: string } {
  if (cached === undefined) {
    const binary = appNode();
    cached = { binary, version: execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim() };
  }
  return cached;
}
