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

/** The Node.js the apps run on: its binary, `--version` (`v24.22.3`) and major (`24`). */
export interface AppNodeLine {
  readonly binary: string;
  readonly version: string;
  readonly major: string;
}

let cached: AppNodeLine | undefined;

/** {@link appNode}'s binary, version and major, resolved once per run. */
export function appNodeLine(): AppNodeLine {
  if (cached === undefined) {
    const binary = appNode();
    const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
    cached = { binary, version, major: version.replace(/^v(\d+).*$/, '$1') };
  }
  return cached;
}
