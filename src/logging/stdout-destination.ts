import { writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { processGlobal } from '../internal/process-global.js';
import { batchEnd, chunkEnd, countLines, writeBytesFor } from './line-batches.js';

/** Longest time `flushSync` busy-waits on a full pipe at exit before it gives up. */
const exitFlushBoundMs = 2_000;
/**
 * Longest time a synchronous writer (a worker thread's) waits on a pipe that takes nothing before
 * its lines wait in memory instead, as the main thread's do.
 */
const stallBoundMs = 2_000;
/** Pause before writing again to a pipe that was full. */
const retryDelayMs = 10;
/** Lines kept in memory while stdout does not take them, before new ones are dropped (and counted). */
const defaultMaxPendingBytes = 64 * 1024 * 1024;
/**
 * Bytes past that bound kept for reserved lines: an EMF line carries a whole interval's metrics, a
 * few KB a flush, where log lines come by the thousand.
 */
const reservedBytes = 8 * 1024 * 1024;

/** Characters of the backlog turned into bytes at a time. */
const chunkChars = 1024 * 1024;

const sleepBuffer = new Int32Array(new SharedArrayBuffer(4));

function writeStderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // stderr is gone too: nowhere left to say it
  }
}

function isAgain(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

/**
 * The kit's stdout writer, one per process, shared by every kit logger. Lines written during one
 * turn of the event loop are written together at its end (a busy server logs many lines per turn):
 * on a pipe, in writes of whole lines of at most PIPE_BUF bytes, which the kernel takes whole or not
 * at all, so that the app's own `console.log` lines never land inside one of the kit's, nor the
 * kit's inside one of theirs (a line longer than PIPE_BUF, written alone, can still be split); on a
 * file or a terminal, in chunks of up to 1 MiB characters ending on a line. When the pipe is full — its reader is slow — lines wait in memory and are
 * written again shortly, so a slow reader never stalls request handling; `flush()` waits until all is
 * written, and at exit `flushSync()` writes what is left. Past 64 MiB waiting, new lines are dropped,
 * and counted: once the backlog is written, the count goes to the reporter (`onDropped`), which writes
 * it as a line of its own. Lines the exit's bound leaves unwritten are counted on stderr.
 *
 * In a worker thread (`synchronous`), each line is written as it comes instead, and a full pipe is
 * waited on, for at most 2 s without progress: a worker's event loop may never turn again once its
 * task returns (piscina parks the thread in `Atomics.wait`), and `worker.terminate()`, or the main
 * thread's `process.exit()`, ends the thread without an exit of its own. Past that bound its lines
 * wait in memory as the main thread's do.
 *
 * Written because pino's asynchronous destination (sonic-boom 4) calls a `flush` callback before its
 * pending writes are done and, on a full non-blocking pipe, loses a chunk when the process exits
 * mid-write (measured: 67 of 20,000 lines).
 */
export class StdoutDestination {
  readonly #fd: number;
  #pending = '';
  #pendingBytes = 0;
  /** Lines taken from `#pending` to be written, read a chunk at a time from `#backlogAt`; never appended to. */
  #backlog = '';
  #backlogAt = 0;
  #backlogBytes = 0;
  #stalled: Buffer | undefined;
  #scheduled = false;
  #retrying = false;
  #dropped = 0;
  #reported = 0;
  /**
   * Set by the exit: from then on, each line is written as it comes (no later turn will run), all of
   * them within the exit's one bound.
   */
  #exitDeadline: number | undefined;
  readonly #waiters: (() => void)[] = [];
  readonly #maxPendingBytes: number;
  readonly #reservedBytes: number;
  readonly #exitFlushBoundMs: number;
  readonly #writeFd: typeof writeSync;
  /** The most bytes in one write: PIPE_BUF on a pipe; found on the first write. */
  #writeBytes: number | undefined;
  readonly #appWriting: () => boolean;
  readonly #synchronous: boolean;
  readonly #stallBoundMs: number;
  readonly #warn: (text: string) => void;

  /**
   * Called with the number of lines dropped since the last call, once the backlog that made them
   * drop is written (and at exit). The kit's logger sets it to write an `error` line.
   */
  onDropped: ((count: number) => void) | undefined;

  /**
   * @param fd - the file descriptor written (1, stdout).
   * @param limits - `maxPendingBytes`, the backlog kept before lines are dropped (64 MiB);
   *   `reservedBytes`, kept past it for reserved lines (8 MiB);
   *   `exitFlushBoundMs`, how long the exit waits on a full pipe (2 s); `write`, the system call
   *   (tests give a pipe that fills); `writeBytes`, the most bytes one write carries (PIPE_BUF when
   *   `fd` is a pipe or a socket, else unbounded); `appWriting`, true while the app's own writes to
   *   the same fd wait in Node's stream (the kit's then wait too, outside the exit); `synchronous`,
   *   each line written as it comes, a full pipe waited on (off the main thread only: it blocks);
   *   `stallBoundMs`, how long that wait lasts without progress before lines wait in memory (2 s);
   *   `warn`, where the count of lines lost at exit goes (stderr, synchronously).
   */
  constructor(
    fd = 1,
    limits: {
      maxPendingBytes?: number;
      reservedBytes?: number;
      exitFlushBoundMs?: number;
      write?: typeof writeSync;
      writeBytes?: number;
      appWriting?: () => boolean;
      synchronous?: boolean;
      stallBoundMs?: number;
      warn?: (text: string) => void;
    } = {},
  ) {
    this.#fd = fd;
    this.#maxPendingBytes = limits.maxPendingBytes ?? defaultMaxPendingBytes;
    this.#reservedBytes = limits.reservedBytes ?? reservedBytes;
    this.#exitFlushBoundMs = limits.exitFlushBoundMs ?? exitFlushBoundMs;
    this.#writeFd = limits.write ?? writeSync;
    this.#writeBytes = limits.writeBytes;
    this.#appWriting = limits.appWriting ?? (() => false);
    this.#synchronous = limits.synchronous ?? false;
    this.#stallBoundMs = limits.stallBoundMs ?? stallBoundMs;
    this.#warn = limits.warn ?? writeStderr;
  }

  /** False while a log line would be dropped: more than 64 MiB wait for stdout. */
  get takesLines(): boolean {
    return this.#waitingBytes() <= this.#maxPendingBytes;
  }

  /**
   * Bytes waiting for stdout: lines queued this turn, and what a full pipe has not taken yet (an
   * estimate while the pipe takes them, counted in characters). For a writer that can wait (the
   * cluster primary's relay of its workers' lines), to stop feeding it long before lines drop.
   */
  get waitingBytes(): number {
    return this.#waitingBytes();
  }

  /** Lines dropped because more than 64 MiB waited for stdout. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Queues `line`, written at the end of this turn of the event loop (at once, during the exit, and
   * when `synchronous`).
   * Returns false when it is dropped, more than 64 MiB waiting; a `reserved` line (an EMF line) is
   * kept up to 8 MiB further, and its drop is left to its writer to count and say.
   */
  write(line: string, reserved = false): boolean {
    if (this.#waitingBytes() > this.#maxPendingBytes + (reserved ? this.#reservedBytes : 0)) {
      if (!reserved) this.#dropped++;
      return false;
    }
    this.#pending += line;
    // While the pipe is full, what waits is counted in bytes, as it will be written (UTF-8: up to 3
    // per character); otherwise in characters, which is cheaper and bounds one turn's lines at most.
    this.#pendingBytes += this.#stalled === undefined ? line.length : Buffer.byteLength(line);
    if (this.#exitDeadline !== undefined) this.flushSync();
    else if (this.#synchronous) this.#writeWaiting();
    else if (!this.#scheduled && !this.#retrying) {
      this.#scheduled = true;
      setImmediate(this.#drain);
    }
    return true;
  }

  /** What waits: the lines queued since the last write, and what the pipe has not taken of it. */
  #waitingBytes(): number {
    return this.#pendingBytes + this.#backlogBytes + (this.#stalled?.length ?? 0);
  }

  /** Calls `callback` once everything written so far has reached stdout. */
  flush(callback?: (error?: Error) => void): void {
    if (this.#isEmpty()) {
      callback?.();
      return;
    }
    if (callback !== undefined) this.#waiters.push(callback);
    if (!this.#scheduled && !this.#retrying) {
      this.#scheduled = true;
      setImmediate(this.#drain);
    }
  }

  /**
   * Writes everything now, waiting on a full pipe for at most 2 s (during the exit, 2 s in all for
   * every line written since it began); for the process's exit. What the exit's bound leaves
   * unwritten is counted in one line on stderr.
   */
  flushSync(): void {
    const deadline = this.#exitDeadline ?? performance.now() + this.#exitFlushBoundMs;
    while (!this.#isEmpty()) {
      if (this.#writeSome()) continue;
      if (performance.now() > deadline) {
        if (this.#exitDeadline !== undefined) this.#abandon();
        return;
      }
      Atomics.wait(sleepBuffer, 0, 0, 5); // the pipe is full: let the reader catch up
    }
    this.#settleWaiters();
    this.#reportDrops();
  }

  /**
   * For `process.exit`: writes what is left, then every later line as it comes — a line logged by an
   * `exit` listener that runs after this one would otherwise wait for a turn that never comes.
   */
  exitSync(): void {
    this.#exitDeadline = performance.now() + this.#exitFlushBoundMs;
    this.flushSync();
  }

  /**
   * Writes everything now, waiting on a full pipe while it takes something at least every
   * `stallBoundMs`. Past that, what is left is written again shortly, as `#drain` does, and the
   * lines that come meanwhile are tried without waiting, until the pipe has taken them all.
   */
  #writeWaiting(): void {
    const bound = this.#retrying ? 0 : this.#stallBoundMs;
    let stuckSince: number | undefined;
    while (!this.#isEmpty()) {
      if (this.#writeSome()) {
        stuckSince = undefined;
        continue;
      }
      const now = performance.now();
      stuckSince ??= now;
      if (now - stuckSince >= bound) {
        if (!this.#retrying) {
          // Unref'd as on the main thread: a thread whose work is done is not kept alive by its
          // logs; its exit writes what is left, within the exit's bound.
          this.#retrying = true;
          setTimeout(this.#drain, retryDelayMs).unref();
        }
        return;
      }
      Atomics.wait(sleepBuffer, 0, 0, 5); // the pipe is full: let the reader catch up
    }
    this.#settleWaiters();
    this.#reportDrops();
  }

  readonly #drain = (): void => {
    this.#scheduled = false;
    this.#retrying = false;
    while (!this.#isEmpty()) {
      // A console.log that the pipe took in part has its rest in Node's stream: a write now would
      // land inside that line. Node writes the rest when the pipe has room; the kit, after it.
      if (this.#appWriting() || !this.#writeSome()) {
        this.#retrying = true;
        setTimeout(this.#drain, retryDelayMs).unref();
        return;
      }
    }
    this.#settleWaiters();
    this.#reportDrops();
  };

  /**
   * At the exit, past its bound: no later turn will write what is left, so it is let go, and
   * counted on stderr with the lines dropped and not reported yet — the one place still read.
   */
  #abandon(): void {
    const count =
      (this.#stalled === undefined ? 0 : countLines(this.#stalled)) +
      countLines(this.#backlog, this.#backlogAt) +
      countLines(this.#pending) +
      (this.#dropped - this.#reported);
    this.#reported = this.#dropped;
    this.#stalled = undefined;
    this.#pending = '';
    this.#pendingBytes = 0;
    this.#clearBacklog();
    this.#warn(
      `apprunner-kit: ${count} log line${count === 1 ? '' : 's'} not written at exit (stdout was not read within ${this.#exitFlushBoundMs} ms)\n`,
    );
  }

  /** Hands the count of lines dropped since the last report to `onDropped`, once. */
  #reportDrops(): void {
    const count = this.#dropped - this.#reported;
    if (count === 0 || this.onDropped === undefined) return;
    this.#reported = this.#dropped;
    try {
      this.onDropped(count);
    } catch (error) {
      // Never from the background task that drains stdout: say it on stderr instead.
      process.stderr.write(
        `apprunner-kit: ${count} log lines dropped; reporting them failed: ${String(error)}\n`,
      );
    }
  }

  /** Writes as much as stdout takes; false when it is full. */
  #writeSome(): boolean {
    if (this.#stalled === undefined) {
      if (this.#backlog === '') {
        if (this.#pending === '') return true;
        // Taken whole: later lines go to a new string, so that this one is read, never copied again.
        this.#backlog = this.#pending;
        this.#backlogAt = 0;
        this.#backlogBytes = this.#pendingBytes;
        this.#pending = '';
        this.#pendingBytes = 0;
      }
      // Turned into bytes a chunk at a time: never a second copy of all of it.
      const end = chunkEnd(this.#backlog, this.#backlogAt, chunkChars);
      this.#stalled = Buffer.from(this.#backlog.slice(this.#backlogAt, end));
      if (end === this.#backlog.length) this.#clearBacklog();
      else {
        this.#backlogAt = end;
        // An estimate: lines queued while the pipe took them were counted in characters.
        this.#backlogBytes = Math.max(0, this.#backlogBytes - this.#stalled.length);
      }
    }
    this.#writeBytes ??= writeBytesFor(this.#fd);
    const stalled = this.#stalled;
    const batch =
      stalled.length <= this.#writeBytes ? stalled : stalled.subarray(0, batchEnd(stalled, this.#writeBytes));
    try {
      const written = this.#writeFd(this.#fd, batch);
      this.#stalled =
        written >= stalled.length ? undefined : stalled.subarray(Math.min(written, batch.length));
      return true;
    } catch (error) {
      if (isAgain(error)) return false;
      // stdout is gone (EPIPE, EBADF): nothing can be written any more; do not take the process down.
      this.#stalled = undefined;
      this.#pending = '';
      this.#pendingBytes = 0;
      this.#clearBacklog();
      return true;
    }
  }

  #isEmpty(): boolean {
    return this.#stalled === undefined && this.#backlog === '' && this.#pending === '';
  }

  #clearBacklog(): void {
    this.#backlog = '';
    this.#backlogAt = 0;
    this.#backlogBytes = 0;
  }

  #settleWaiters(): void {
    if (this.#waiters.length === 0) return; // the common case: no flush() waits, nothing to copy
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

/**
 * The thread's one stdout writer (the kit's loggers' default destination, and the metrics'); its
 * `flushSync` runs on the thread's exit. A worker thread's writes each line at once (see
 * {@link StdoutDestination}).
 */
export function processStdout(): StdoutDestination {
  return processGlobal('stdout.v1', () => {
    const destination = isMainThread ? mainThreadStdout() : new StdoutDestination(1, { synchronous: true });
    process.on('exit', () => destination.exitSync());
    return destination;
  });
}

function mainThreadStdout(): StdoutDestination {
  // Touching process.stdout makes libuv put a pipe on fd 1 in non-blocking mode, so that a full pipe
  // answers EAGAIN (and lines wait in memory) instead of blocking the event loop. A worker thread's
  // process.stdout is a stream to the main thread's: the fd's mode is the main thread's doing.
  void process.stdout.isTTY;
  return new StdoutDestination(1, { appWriting: () => process.stdout.writableLength > 0 });
}
