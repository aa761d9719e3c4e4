import { type ChildProcess, spawn } from 'node:child_process';
import { OutputCapture } from './output-capture.js';
import { elapsedSince, within } from './timing.js';

/** How the app's process ended. */
export interface AppExit {
  /** Exit code, or `null` when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, if one did. */
  readonly signal: NodeJS.Signals | null;
  /** Milliseconds from the start to the exit. */
  readonly atMs: number;
  /** Set when the command could not be started at all (`ENOENT`, `EACCES`, …). */
  readonly spawnError?: NodeJS.ErrnoException;
}

// Every process group still running, so that the command line can kill them when it is interrupted
// or exits: the app runs in its own group, which a Ctrl-C on the checker does not reach.
const liveGroups = new Set<number>();

/**
 * Sends SIGKILL to the process group of every app still running. Synchronous, for `exit` and signal
 * handlers of the command line.
 */
export function killAllAppGroups(): void {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  liveGroups.clear();
}

function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    // ESRCH: the group is gone already.
    return false;
  }
}

/**
 * The app under check, started the way App Runner starts a container's command: its own process
 * group (the container), stdin closed, stdout and stderr read line by line, a clean environment.
 *
 * @example
 * ```ts
 * const app = AppProcess.start(['node', 'server.js'], { cwd, env: { PORT: '8080', PATH } });
 * try { … } finally { await app.destroy(); }
 * ```
 */
export class AppProcess {
  /** `performance.now()` when the command was started. */
  readonly startedAt: number;
  /** The process id; `undefined` when the command could not be started. */
  readonly pid: number | undefined;
  /** Its output, counted and tailed. */
  readonly output = new OutputCapture();
  /** Resolves once the main process has exited (or failed to start); never rejects. */
  readonly exited: Promise<AppExit>;
  readonly #child: ChildProcess;
  readonly #closed: Promise<void>;
  #exit: AppExit | undefined;

  private constructor(command: readonly string[], options: { cwd: string; env: Record<string, string> }) {
    const [file, ...args] = command as [string, ...string[]];
    this.startedAt = performance.now();
    // `detached` makes the child the leader of a new process group (and session): the whole command
    // tree can be killed at once, as an instance is, and no terminal signal reaches it by accident.
    this.#child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.pid = this.#child.pid;
    if (this.pid !== undefined) liveGroups.add(this.pid);
    this.output.attach('stdout', this.#child.stdout!);
    this.output.attach('stderr', this.#child.stderr!);
    this.exited = new Promise((resolve) => {
      const settle = (exit: AppExit) => {
        if (this.#exit !== undefined) return;
        this.#exit = exit;
        resolve(exit);
      };
      this.#child.once('exit', (code, signal) =>
        settle({ code, signal, atMs: elapsedSince(this.startedAt) }),
      );
      this.#child.once('error', (error: NodeJS.ErrnoException) => {
        // `error` also fires when a signal cannot be delivered; only a failed spawn has no pid.
        if (this.pid === undefined) {
          settle({ code: null, signal: null, atMs: elapsedSince(this.startedAt), spawnError: error });
        }
      });
    });
    this.#closed = new Promise((resolve) => {
      this.#child.once('close', () => resolve());
      if (this.pid === undefined) this.#child.once('error', () => resolve());
    });
  }

  /** Starts `command` (no shell) with exactly `env` in `cwd`. A failed start shows in {@link AppProcess.exited}. */
  static start(
    command: readonly string[],
    options: { cwd: string; env: Record<string, string> },
  ): AppProcess {
    if (command.length === 0) throw new TypeError('AppProcess.start needs a command');
    return new AppProcess(command, options);
  }

  /** The exit, once it happened. */
  get exit(): AppExit | undefined {
    return this.#exit;
  }

  /** True while the main process runs. */
  get running(): boolean {
    return this.pid !== undefined && this.#exit === undefined;
  }

  /**
   * Sends `signal` to the main process only — as a container runtime signals the container's
   * main process, leaving it to pass the signal on. Returns false when it is not running.
   */
  signal(signal: NodeJS.Signals): boolean {
    if (!this.running) return false;
    return this.#child.kill(signal);
  }

  /** Sends SIGKILL to the whole process group: what is left when an instance is stopped. */
  killGroup(): void {
    if (this.pid === undefined) return;
    killGroup(this.pid, 'SIGKILL');
  }

  /**
   * Kills what is left of the process group and waits (bounded) for the main process to exit and its
   * output to be read to the end. Safe to call more than once.
   */
  async destroy(boundMs = 3000): Promise<void> {
    if (this.pid === undefined) {
      // A failed spawn reports its error on a later tick.
      await within(this.exited, boundMs);
      return;
    }
    this.killGroup();
    await within(this.exited, boundMs);
    // A grandchild that escaped the group (a session of its own) could hold the pipes open: do not
    // wait for it forever, and let go of our ends, which would keep the checker alive.
    await within(this.#closed, 1000);
    this.#child.stdout?.destroy();
    this.#child.stderr?.destroy();
    this.output.end('stdout');
    this.output.end('stderr');
    liveGroups.delete(this.pid);
  }
}
