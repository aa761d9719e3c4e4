import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine } from '../../../src/cli/command-line.js';
import type { CheckReport, CheckStatus } from '../../../src/cli/report.js';
import { type RunCheckEnvironment, runCheck } from '../../../src/cli/run-check.js';

// Ports for the checked apps come from a range below the kernel's ephemeral range (32768–60999 here),
// one block per test file: `freePort()` hands out ephemeral ports that another test file, running in
// parallel, may be handed too — and a check that finds its port taken refuses to run.
const blocks = { fixtures: 21_000, examples: 23_000, bin: 25_000 } as const;
let next = Math.floor(Math.random() * 1000);

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** A free port of the block of test file `file`, not handed out before in this process. */
export async function appPort(file: keyof typeof blocks): Promise<number> {
  for (let tries = 0; tries < 50; tries += 1) {
    const port = blocks[file] + (next++ % 2000);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in ${blocks[file]}–${blocks[file] + 1999}`);
}

/** test/fixtures/cli/<name>. */
export function fixture(name: string): string {
  return new URL(`../../fixtures/cli/${name}`, import.meta.url).pathname;
}

// Small intervals and bounds, so that each run takes a second or two (a few for a broken app).
const quick = ['--probe-interval', '100', '--health-samples', '2', '--requests', '120', '--grace', '6'];

/**
 * Runs `apprunner-kit check` in this process on a free port, with quick settings and `flags`, parsed
 * by the real command line.
 */
export async function check(
  command: readonly string[],
  cwd: string,
  flags: readonly string[] = [],
  file: 'fixtures' | 'examples' = 'fixtures',
  environment: RunCheckEnvironment = {},
): Promise<CheckReport> {
  const port = await appPort(file);
  const line = parseCommandLine([
    'check',
    '--port',
    String(port),
    '--cwd',
    cwd,
    ...quick,
    ...flags,
    '--',
    ...command,
  ]);
  if (line.kind !== 'check') throw new Error(`unexpected ${line.kind}`);
  return runCheck(line.options, environment);
}

/** `{ listen: 'pass', health: 'fail', … }` of a report. */
export function grades(report: CheckReport): Record<string, CheckStatus> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
}

/** Every row's summary and the app's last lines: the message of a failed expectation on the grades. */
export function explain(report: CheckReport): string {
  const rows = report.checks.map((c) => `${c.status} ${c.id}: ${c.summary}`);
  return [...rows, ...report.lastLines.map((l) => `${l.stream} | ${l.line}`)].join('\n');
}

/** The row of check `id`. */
export function row(report: CheckReport, id: string) {
  const found = report.checks.find((c) => c.id === id);
  if (found === undefined) throw new Error(`no check ${id}`);
  return found;
}

/** A fresh temporary directory, and the function that removes it. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
