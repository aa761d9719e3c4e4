import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** A child Node.js process whose stdout is read as JSON log lines. */
export interface ChildApp {
  readonly child: ChildProcess;
  /** Every stdout line, parsed; a line that is not JSON is kept as `{ notJson: line }`. */
  readonly lines: Record<string, unknown>[];
  readonly stderr: () => string;
  /** Resolves with the first line (past or future) that `predicate` accepts; rejects after `timeoutMs`. */
  waitForLine(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or the signal name) and the time since `since` in ms. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/**
 * Starts `node <script> ...args` with `env` added to a minimal environment. `detached` puts it at the
 * head of a process group of its own, which a test can signal whole, as a terminal's Ctrl+C does;
 * `ipc`: with an IPC channel (`child.send`, the `message` event), as `fork` and pm2 start a process;
 * `fifo`: stdout a named pipe, as a container runtime gives it (Node's `'pipe'` is a socket pair,
 * where two processes' long writes never split around each other; `child.stdout` is then null).
 * `execArgv`: Node's options, before the script (those NODE_OPTIONS does not take, as
 * `--experimental-config-file`); `cwd`: the directory it runs in.
 */
export function startChild(
  script: string,
  env: Record<string, string>,
  args: string[] = [],
  {
    detached = false,
    ipc = false,
    fifo = false,
    execArgv = [],
    cwd,
  }: {
    detached?: boolean;
    ipc?: boolean;
    fifo?: boolean;
    execArgv?: readonly string[];
    cwd?: string;
  } = {},
): ChildApp {
  const named = fifo ? namedPipe() : undefined;
  const child = spawn(process.execPath, [...execArgv, script, ...args], {
    ...(cwd === undefined ? {} : { cwd }),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', named?.writeFd ?? 'pipe', 'pipe', ...(ipc ? ['ipc' as const] : [])],
    detached,
  });
  if (named !== undefined) closeSync(named.writeFd);
  const stdout = named?.stream ?? child.stdout!.setEncoding('utf8');
  const lines: Record<string, unknown>[] = [];
  const waiters: {
    predicate: (line: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  let buffered = '';
  let stderr = '';
  stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      const text = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { notJson: text };
      }
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.predicate(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
      newline = buffered.indexOf('\n');
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() }));
    },
  );
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    waitForLine(predicate, timeoutMs = 10_000) {
      const found = lines.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(
              `no matching log line within ${timeoutMs} ms; stdout: ${JSON.stringify(lines)}; stderr: ${stderr}`,
            ),
          );
        }, timeoutMs);
        waiters.push({
          predicate,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          const late = lines.find(predicate);
          if (late !== undefined) resolve(late);
          else
            reject(
              new Error(
                `child exited before the line appeared; stdout: ${JSON.stringify(lines)}; stderr: ${stderr}`,
              ),
            );
        });
      });
    },
  };
}

/**
 * A named pipe: its write end's descriptor, for a child's stdout, and a stream reading it. The read
 * end is opened first, without waiting (a reader opening a FIFO with no writer would wait for one),
 * then the write end, which a reader being there lets open at once. The pipe's directory is removed
 * once the stream closes (every process holding the write end exited).
 */
function namedPipe(): { writeFd: number; stream: Readable } {
  const dir = mkdtempSync(join(tmpdir(), 'ark-fifo-'));
  const path = join(dir, 'stdout');
  execFileSync('mkfifo', [path]);
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(path, 'w');
  const stream = new Socket({ fd: readFd, readable: true, writable: false });
  stream.setEncoding('utf8');
  stream.once('close', () => rmSync(dir, { recursive: true, force: true }));
  return { writeFd, stream };
}
