import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { freePort } from '../../test/support/child.js';
import { appNodeLine } from './node-line.js';

export { type Spread, spread } from './stats.js';

const run = promisify(execFile);

/**
 * Installs `command` from Debian's package `pkg` when it is not on PATH (the benchmarks run as root
 * on CI machines). A command that is there but unhappy with `--version` (wrk exits 1) counts as there.
 */
export async function ensureDebianCommand(command: string, pkg = command): Promise<void> {
  try {
    await run(command, ['--version']);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return;
    await run('apt-get', ['update', '-qq']);
    await run('apt-get', ['install', '-y', '-qq', pkg]);
  }
}

/** Installs wrk from Debian's packages when it is missing. */
export function ensureWrk(): Promise<void> {
  return ensureDebianCommand('wrk');
}

/**
 * Pins this process (every thread) to CPU 1, where wrk runs: a sink or receiver the harness serves
 * in-process then never takes CPU time from the app on CPU 0.
 */
export function pinHarness(): void {
  execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
}

/** A benchmark app in a child process pinned to CPU 0, its stdout sent to /dev/null. */
export interface PinnedApp {
  readonly port: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `node ...nodeArgs script` pinned to CPU 0 with PORT set, and waits until GET `probePath`
 * answers. `node` is the binary `--node` names ({@link appNodeLine}), else this process's.
 */
export async function startPinned(
  script: string,
  env: Record<string, string> = {},
  probePath = '/',
  nodeArgs: readonly string[] = [],
): Promise<PinnedApp> {
  const port = await freePort();
  const devNull = openSync('/dev/null', 'w');
  const child = spawn('taskset', ['-c', '0', appNodeLine().binary, ...nodeArgs, script], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), NODE_ENV: 'production', ...env },
    stdio: ['ignore', devNull, 'inherit'],
  });
  const deadline = performance.now() + 10_000;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}${probePath}`);
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`${script} did not answer within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    child,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

const ticksPerSecond = Number(execFileSyncSafe('getconf', ['CLK_TCK']) || 100);

function execFileSyncSafe(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/**
 * CPU time (user + system) a process has used, in µs, from /proc/<pid>/stat. On 2 shared cores the
 * app's CPU per request holds much steadier than its throughput when something else runs.
 */
export function cpuMicros(pid: number): number {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/**
 * CPU time a process has used in user space and in the kernel, in µs, from /proc/<pid>/stat. Kernel
 * time per request depends on the load as much as on the app: on loopback, the app's writes wake wrk's
 * CPU, which costs more the longer wrk had been idle between responses.
 */
export function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    user: (Number(fields[11]) * 1e6) / ticksPerSecond,
    system: (Number(fields[12]) * 1e6) / ticksPerSecond,
  };
}

/** wrk's result: requests per second and latency percentiles in µs. */
export interface WrkResult {
  readonly rps: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly errors: number;
  /** Requests completed during the run. */
  readonly requests: number;
  /** The parts of `errors`: answers other than 2xx and 3xx, and wrk's socket errors by kind. */
  readonly non2xx: number;
  readonly socketErrors: {
    readonly connect: number;
    readonly read: number;
    readonly write: number;
    readonly timeout: number;
  };
}

function toMicroseconds(value: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
  if (match === null) return Number.NaN;
  const n = Number(match[1]);
  return match[2] === 'us' ? n : match[2] === 'ms' ? n * 1_000 : n * 1_000_000;
}

/**
 * Runs wrk pinned to CPU 1 against `url` for `seconds`, one thread, `connections` keep-alive
 * connections; with `script`, a Lua file that shapes the requests (`wrk -s`).
 */
export async function wrk(
  url: string,
  seconds: number,
  connections = 32,
  script?: string,
): Promise<WrkResult> {
  const { stdout } = await run('taskset', [
    '-c',
    '1',
    'wrk',
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    ...(script === undefined ? [] : ['-s', script]),
    url,
  ]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const requests = Number(/(\d+) requests in /.exec(stdout)?.[1] ?? Number.NaN);
  const p50 = /\s50%\s+(\S+)/.exec(stdout)?.[1] ?? '';
  const p99 = /\s99%\s+(\S+)/.exec(stdout)?.[1] ?? '';
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1];
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const [connect, read, write, timeout] = (socketErrors?.slice(1) ?? [0, 0, 0, 0]).map(Number) as [
    number,
    number,
    number,
    number,
  ];
  return {
    rps,
    requests,
    non2xx: Number(errors ?? 0),
    socketErrors: { connect, read, write, timeout },
    p50Us: toMicroseconds(p50),
    p99Us: toMicroseconds(p99),
    errors:
      Number(errors ?? 0) +
      (socketErrors === null ? 0 : socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0)),
  };
}
