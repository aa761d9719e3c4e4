import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where every instance keeps its data, one folder each; swept of orphans on first use. */
export const SERVICES_DIR = join(tmpdir(), 'apprunner-kit-services');
const OWNER_FILE = 'owner.json';
const STOP_TIMEOUT_MS = 10_000;
const MAX_LOG_CHARS = 64 * 1024;

/** The life of an instance. */
export type ServiceState = 'stopped' | 'running' | 'paused' | 'disposed';

/** How to run one server process. */
export interface ProcessSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** Run as this user (root only: postgres refuses to run as root). */
  readonly uid?: number;
  readonly gid?: number;
  /** A line of its output that says it accepts connections. */
  readonly ready: RegExp;
  /** The signal for a clean, quick stop (postgres: SIGINT, "fast" shutdown). */
  readonly stopSignal: NodeJS.Signals;
  readonly startTimeoutMs: number;
}

/** Thrown when the process exits or stays silent before it is ready; `logs` says why. */
export class ProcessStartError extends Error {
  override readonly name = 'ProcessStartError';
  constructor(
    message: string,
    readonly logs: string,
  ) {
    super(`${message}\n--- output ---\n${logs.slice(-4_000)}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every process below `pid` (children, grandchildren…), from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const siblings = children.get(ppid) ?? [];
    siblings.push(Number(entry));
    children.set(ppid, siblings);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Signals a server and everything below it. The process group alone is not enough: each
 * PostgreSQL backend calls setsid(), so it leads a group of its own and ignores kill(-postmaster).
 * The leader is signalled first, so a stopped postmaster forks no backend the walk would miss.
 */
function signalTree(pid: number, name: NodeJS.Signals): void {
  signal(-pid, name);
  for (const child of descendants(pid)) signal(child, name);
}

/** Whether `pid` works in `dir` (its cwd: redis and postgres chdir into their data folder). */
function runsIn(pid: number, dir: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/cwd`).startsWith(dir);
  } catch {
    return false;
  }
}

let swept = false;

/**
 * Kills instances whose owning test process died without disposing of them (a crashed or killed
 * vitest) and deletes their folders. A group is only killed when its leader still works in the
 * instance folder, so a recycled pid is never hit. Runs once per process unless `force`d.
 */
export function sweepOrphans(options: { force?: boolean } = {}): void {
  if (swept && !options.force) return;
  swept = true;
  let entries: string[];
  try {
    entries = readdirSync(SERVICES_DIR);
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = join(SERVICES_DIR, entry);
    let owner: { ownerPid?: unknown; pid?: unknown };
    try {
      owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as typeof owner;
    } catch {
      continue;
    }
    if (typeof owner.ownerPid !== 'number' || alive(owner.ownerPid)) continue;
    if (typeof owner.pid === 'number' && alive(owner.pid) && runsIn(owner.pid, dir)) {
      try {
        const tree = [owner.pid, ...descendants(owner.pid)];
        for (const pid of tree) signal(pid, 'SIGCONT');
        signal(-owner.pid, 'SIGKILL');
        for (const pid of tree) signal(pid, 'SIGKILL');
      } catch {
        continue; // another user's instance (EPERM): leave it and its folder alone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh instance folder under {@link SERVICES_DIR}, owned by `uid` when given (and we are root). */
export function createInstanceDir(kind: string, uid?: number, gid?: number): string {
  mkdirSync(SERVICES_DIR, { recursive: true });
  // Sticky and world-writable like /tmp: the postgres user must traverse it, other users may share it.
  chmodSync(SERVICES_DIR, 0o1777);
  sweepOrphans();
  const dir = mkdtempSync(join(SERVICES_DIR, `${kind}-`));
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify({ ownerPid: process.pid }));
  if (uid !== undefined && process.getuid?.() === 0) {
    chmodSync(dir, 0o755);
    chownSync(dir, uid, gid ?? uid);
  }
  return dir;
}

/** One server process (and its children) in its own session, restartable, pausable with SIGSTOP. */
export class ManagedProcess {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #logs = '';
  #state: ServiceState = 'stopped';

  constructor(
    readonly dir: string,
    readonly spec: ProcessSpec,
  ) {}

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get state(): ServiceState {
    return this.#state;
  }

  logs(): string {
    return this.#logs;
  }

  /** Spawns the process and resolves once it prints its ready line. */
  async start(): Promise<void> {
    if (this.#state === 'disposed') throw new Error(`${this.spec.command}: disposed`);
    if (this.#state !== 'stopped') return;
    const child = spawn(this.spec.command, [...this.spec.args], {
      cwd: this.spec.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(this.spec.uid !== undefined && { uid: this.spec.uid }),
      ...(this.spec.gid !== undefined && { gid: this.spec.gid }),
    });
    this.#child = child;
    writeFileSync(join(this.dir, OWNER_FILE), JSON.stringify({ ownerPid: process.pid, pid: child.pid }));
    // Never keep the test process alive for a server it forgot; dispose() still stops it.
    child.unref();
    (child.stdout as Socket).unref();
    (child.stderr as Socket).unref();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.#exited = exited;
    void exited.then(() => {
      if (this.#child === child) {
        this.#child = undefined;
        if (this.#state !== 'disposed') this.#state = 'stopped';
      }
    });
    let sinceStart = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        this.#logs = (this.#logs + text).slice(-MAX_LOG_CHARS);
        sinceStart = (sinceStart + text).slice(-MAX_LOG_CHARS);
        if (this.spec.ready.test(sinceStart)) {
          done();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        done();
        if (child.pid !== undefined) signalTree(child.pid, 'SIGKILL');
        reject(
          new ProcessStartError(
            `${this.spec.command} not ready within ${this.spec.startTimeoutMs} ms`,
            this.#logs,
          ),
        );
      }, this.spec.startTimeoutMs);
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        done();
        reject(
          new ProcessStartError(
            `${this.spec.command} exited (${signal ?? `code ${code}`}) before it was ready`,
            this.#logs,
          ),
        );
      };
      const onError = (error: Error) => {
        done();
        reject(new ProcessStartError(`${this.spec.command} could not start: ${error.message}`, this.#logs));
      };
      const done = () => {
        clearTimeout(timer);
        sinceStart = '';
        child.off('exit', onExit);
        child.off('error', onError);
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        // Keep draining the pipes so the server never blocks on a full one.
        child.stdout!.on('data', keep);
        child.stderr!.on('data', keep);
      };
      const keep = (chunk: Buffer) => {
        this.#logs = (this.#logs + chunk.toString('utf8')).slice(-MAX_LOG_CHARS);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', onExit);
      child.once('error', onError);
    });
    this.#state = 'running';
  }

  /** Stops with the clean stop signal; SIGKILLs the process tree if it is still there after 10 s. */
  async stop(): Promise<void> {
    await this.#terminate(this.spec.stopSignal);
  }

  /** SIGKILLs the process and everything below it at once: a crash. */
  async kill(): Promise<void> {
    await this.#terminate('SIGKILL');
  }

  /** SIGSTOPs the process and everything below it: connections stay open and nothing answers. */
  pause(): void {
    const pid = this.#requireRunning('pause');
    signalTree(pid, 'SIGSTOP');
    this.#state = 'paused';
  }

  /** SIGCONTs what pause() stopped. */
  resume(): void {
    const pid = this.#child?.pid;
    if (pid === undefined || this.#state !== 'paused') return;
    signalTree(pid, 'SIGCONT');
    this.#state = 'running';
  }

  /** Stops the process and deletes its folder. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.#state === 'disposed') return;
    await this.stop();
    this.#state = 'disposed';
    rmSync(this.dir, { recursive: true, force: true });
  }

  #requireRunning(action: string): number {
    const pid = this.#child?.pid;
    if (pid === undefined || this.#state === 'stopped' || this.#state === 'disposed') {
      throw new Error(`cannot ${action} ${this.spec.command}: it is ${this.#state}`);
    }
    return pid;
  }

  async #terminate(name: NodeJS.Signals): Promise<void> {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    // Listed before the leader goes: once it is dead its children are re-parented and lost to the walk.
    const tree = [pid, ...descendants(pid)];
    if (this.#state === 'paused') for (const member of tree) signal(member, 'SIGCONT');
    if (name === 'SIGKILL') for (const member of tree) signal(member, 'SIGKILL');
    else signal(pid, name);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
    });
    const forced = await Promise.race([this.#exited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (forced) {
      for (const member of tree) signal(member, 'SIGKILL');
      await this.#exited;
    }
    // No kill after the leader is gone: a clean stop waits for its children, a kill hit them all,
    // and their pids may already belong to someone else.
  }
}
