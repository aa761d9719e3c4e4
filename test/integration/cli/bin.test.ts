import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckReport } from '../../../src/cli/report.js';
import { appPort, fixture, tempDir } from './check-runner.js';

const root = new URL('../../../', import.meta.url).pathname;
const cli = join(root, 'dist/cli.js');
const quick = ['--probe-interval', '100', '--health-samples', '2', '--requests', '120', '--grace', '6'];
let cwd: { dir: string; remove: () => void };

beforeEach(() => {
  cwd = tempDir('ark-check-bin-');
});
afterEach(() => cwd.remove());

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs dist/cli.js with `args`, bounded by `timeoutMs`; `onStart` gets the checker's process. */
function runBin(args: readonly string[], timeoutMs = 15_000, onStart?: (pid: number) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: cwd.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      // SIGTERM first: the checker kills the app's process group on its way out; SIGKILL would not.
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      reject(
        new Error(`apprunner-kit did not exit within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`),
      );
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (child.pid !== undefined) onStart?.(child.pid);
  });
}

/** The process runs: it exists and is not a zombie waiting for init to reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('the apprunner-kit executable (dist/cli.js)', () => {
  it('is built, executable, and starts with a node shebang', () => {
    expect(existsSync(cli), 'dist/cli.js is missing: run npx tsup').toBe(true);
    expect(statSync(cli).mode & 0o111).toBe(0o111);
    expect(readFileSync(cli, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      bin?: Record<string, string>;
    };
    expect(pkg.bin).toEqual({ 'apprunner-kit': './dist/cli.js' });
  });

  it('prints its help and version, and exits 2 with a clear message on a usage error', async () => {
    const help = await runBin(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: apprunner-kit check [options] -- <command> [args…]');

    const version = await runBin(['--version']);
    expect(version.stdout.trim()).toBe(
      (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version,
    );

    const usage = await runBin(['check', '--health-interval', '30', '--', 'node', 'x.js']);
    expect(usage).toEqual({
      code: 2,
      stdout: '',
      stderr: 'apprunner-kit: Invalid --health-interval: received "30"; expected an integer from 1 to 20.\n',
    });
  });

  it('prints the report as JSON with --json and exits 0 when nothing fails', async () => {
    const port = await appPort('bin');
    const run = await runBin([
      'check',
      '--json',
      '--port',
      String(port),
      ...quick,
      '--',
      process.execPath,
      fixture('good-app.mjs'),
    ]);

    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as CheckReport;
    expect(report).toMatchObject({
      tool: 'apprunner-kit check',
      schemaVersion: 1,
      port,
      passed: true,
      cwd: cwd.dir,
    });
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['listen', 'pass'],
      ['health', 'pass'],
      ['start', 'pass'],
      ['drain', 'pass'],
      ['logs', 'pass'],
      ['files', 'pass'],
    ]);
  });

  it('exits 1 when a check fails, with the table and the last lines of the output', async () => {
    const run = await runBin([
      'check',
      '--port',
      String(await appPort('bin')),
      '--',
      process.execPath,
      fixture('exits-at-once-app.mjs'),
    ]);

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      / {2}FAIL {2}listen {2}exited \(code 3\) [\d.]+ s after start, before listening\n/,
    );
    expect(run.stdout).toContain('Last lines of its output:\n  err | Error: DATABASE_URL is not set\n');
  });

  it('exits 1 on a warning with --strict', async () => {
    const args = [
      'check',
      '--port',
      String(await appPort('bin')),
      ...quick,
      '--',
      process.execPath,
      fixture('plain-text-app.mjs'),
    ];
    expect((await runBin(args)).code).toBe(0);
    const strict = await runBin(['check', '--strict', ...args.slice(1)]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('WARN  logs');
  });

  it('kills the app when interrupted, and exits 130', async () => {
    const pidFile = join(cwd.dir, 'app.pid');
    let checker = 0;
    const running = runBin(
      [
        'check',
        '--port',
        String(await appPort('bin')),
        '--start-timeout',
        '30',
        '--env',
        `PID_FILE=${pidFile}`,
        '--',
        process.execPath,
        fixture('pid-file-app.mjs'),
      ],
      15_000,
      (pid) => {
        checker = pid;
      },
    );
    const deadline = Date.now() + 5000;
    // The file exists a moment before its content is written: wait for a pid, not for the file.
    const readPid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0);
    while (readPid() <= 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const app = readPid();
    expect(app).toBeGreaterThan(0);
    expect(alive(app)).toBe(true);

    process.kill(checker, 'SIGINT');
    const run = await running;

    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toBe('apprunner-kit: interrupted by SIGINT; the app was killed\n');
    const gone = Date.now() + 2000;
    while (alive(app) && Date.now() < gone) await new Promise((r) => setTimeout(r, 20));
    expect(alive(app)).toBe(false);
  });

  it('exits after its report though a process outside the app’s group holds the app’s stdout open', async () => {
    const pidFile = join(tmpdir(), `ark-keeper-${process.pid}-${Date.now()}.pid`); // not a file of the app's
    const started = performance.now();
    const run = await runBin(
      [
        'check',
        '--port',
        String(await appPort('bin')),
        ...quick,
        '--env',
        `PID_FILE=${pidFile}`,
        '--',
        process.execPath,
        fixture('escaping-grandchild-app.mjs'),
      ],
      20_000,
    );
    try {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('6 passed, 0 warnings, 0 failed');
      expect(performance.now() - started).toBeLessThan(15_000);
    } finally {
      const keeper = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
      if (keeper > 0 && alive(keeper)) process.kill(keeper, 'SIGKILL');
      rmSync(pidFile, { force: true });
    }
  });
});
