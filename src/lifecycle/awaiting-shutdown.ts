import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { type MutableRequestContext, runWithRequestContext, urlSlot } from '../http/context.js';
import { requestPath } from '../http/path.js';

/** A request that awaits `runtime.shutdown()` before its response ended, as the lines name it. */
export interface AwaitingRequest {
  readonly requestId: string;
  readonly method: string | undefined;
  readonly path: string;
}

/** Tracked work (`runtime.track()`) that awaits `runtime.shutdown()`, as the lines name it: its name. */
export interface AwaitingTask {
  readonly task: string;
}

/** What awaits `runtime.shutdown()` while the shutdown waits for it. */
export type AwaitingShutdown = AwaitingRequest | AwaitingTask;

/** What the warning says of the deadline: the milliseconds left to it, and `shutdown.timeoutMs`. */
export interface DeadlineNote {
  readonly msLeft: () => number;
  readonly timeoutMs: number;
}

/**
 * The promise `runtime.shutdown()` gives a request or tracked work: the shutdown's own, seen through
 * `then`. A promise of a class other than `Promise` has its `then` called by an `await` (and by an
 * async function returning it, and by `Promise.resolve`), where a native promise's `then` is never
 * called; `void` and `.catch()` pass no fulfilment callback, and are let go. `onAwait` is called at
 * each `then` with a fulfilment callback until it says it is done.
 */
class Watched<T> extends Promise<T> {
  // What `then` returns is a plain promise: only the one handed to the request is watched.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  #onAwait: (() => boolean) | undefined;

  static of<T>(result: Promise<T>, onAwait: () => boolean): Watched<T> {
    const watched = new Watched<T>((resolve, reject) => {
      result.then(resolve, reject);
    });
    watched.#onAwait = onAwait;
    return watched;
  }

  // biome-ignore lint/suspicious/noThenProperty: a promise's own then, overridden to see the await.
  override then<F = T, R = never>(
    onFulfilled?: ((value: T) => F | PromiseLike<F>) | null,
    onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null,
  ): Promise<F | R> {
    if (typeof onFulfilled === 'function' && this.#onAwait?.() === true) this.#onAwait = undefined;
    return super.then(onFulfilled, onRejected);
  }
}

/**
 * What awaits `runtime.shutdown()` while the shutdown waits for it: a request before it answers (an
 * admin route's `await runtime.shutdown(); res.end()`), of HTTP/1 or HTTP/2, or tracked work
 * (`runtime.track()`). The drain waits for every request and every tracked task, that one too, and
 * that one waits for the shutdown: both last until the deadline, which cuts the request, skips the
 * hooks and exits 1. The kit keeps its word to wait for them (not waiting would cut that one at the
 * exit all the same, with the hooks run before the code after the `await`), and says so: when it
 * awaits, a warning naming it and what to write instead; at the deadline, the timed-out line names
 * it.
 */
export class AwaitingShutdownWatch {
  readonly #logger: Logger;
  readonly #deadline: DeadlineNote;
  readonly #awaiting: { readonly awaiting: AwaitingShutdown; readonly pending: () => boolean }[] = [];

  constructor(logger: Logger, deadline: DeadlineNote) {
    this.#logger = logger;
    this.#deadline = deadline;
  }

  /**
   * What `runtime.shutdown()` returns to the request of `context`, whose response `res` has not
   * ended: `result`, watched. Awaited while the response has still not ended, it warns, in the
   * request's context (its `requestId` and trace), and the deadline line will name the request.
   */
  watchRequest<T>(result: Promise<T>, context: MutableRequestContext, res: ServerResponse): Promise<T> {
    // Checked a microtask later: `.then(cb)` or `.finally(cb)` calls `then` at once, before the
    // `res.end()` that may follow it; an `await` calls it a microtask later, suspended by then.
    return Watched.of(result, () => {
      queueMicrotask(() => this.#warnRequest(context, res));
      return true;
    });
  }

  /**
   * What `runtime.shutdown()` returns to the code of the tracked task `task`: `result`, watched.
   * Awaited there (`then` called by an `await`, not by the task's own code, which chains a callback:
   * `calledByTask` tells them apart), it warns, and the deadline line will name the task while
   * `pending` says it has not settled.
   */
  watchTask<T>(
    result: Promise<T>,
    task: string,
    calledByTask: () => boolean,
    pending: () => boolean,
  ): Promise<T> {
    return Watched.of(result, () => {
      if (calledByTask()) return false;
      this.#warnTask(task, pending);
      return true;
    });
  }

  #warnRequest(context: MutableRequestContext, res: ServerResponse): void {
    // Answered before the await (`res.json(…); await runtime.shutdown()`): the drain waits for nothing.
    if (res.writableEnded) return;
    const request: AwaitingRequest = {
      requestId: context.requestId,
      method: res.req?.method,
      path: requestPath(context[urlSlot] ?? res.req?.url),
    };
    this.#awaiting.push({ awaiting: request, pending: () => !res.writableEnded });
    const message = this.#message(
      `in request ${describe(request)} before its response ended`,
      'request',
      'cuts the request (its client gets no answer), skips',
      'answer first and do not await it (void runtime.shutdown()), or end the response before awaiting it',
    );
    runWithRequestContext(context, () =>
      this.#logger.warn({ ...request, timeoutMs: this.#deadline.timeoutMs }, message),
    );
  }

  #warnTask(task: string, pending: () => boolean): void {
    const awaiting: AwaitingTask = { task };
    this.#awaiting.push({ awaiting, pending });
    const message = this.#message(
      `in ${describe(awaiting)} (runtime.track) before it ended`,
      'work',
      'skips',
      'do not await it in tracked work (void runtime.shutdown()), or call it once the work has ended',
    );
    this.#logger.warn({ task, timeoutMs: this.#deadline.timeoutMs }, message);
  }

  /** A warning of the family: where it is awaited, what waits, what the deadline cuts, what to write. */
  #message(where: string, what: 'request' | 'work', cuts: string, fix: string): string {
    const { msLeft, timeoutMs } = this.#deadline;
    return `runtime.shutdown() is awaited ${where}: the drain waits for that ${what}, and the ${what} for the shutdown, so both wait until the deadline, ${msLeft()} ms from now (shutdown.timeoutMs ${timeoutMs}), which ${cuts} the onShutdown hooks and exits 1; ${fix}`;
  }

  /** What awaited the shutdown and has still not ended: requests not answered, tasks not settled. */
  unended(): AwaitingShutdown[] {
    return this.#awaiting.filter(({ pending }) => pending()).map(({ awaiting }) => awaiting);
  }
}

/** `POST /admin/shutdown (requestId 4b2d…)`, `tracked work "queue worker"`. */
function describe(awaiting: AwaitingShutdown): string {
  if ('task' in awaiting) return `tracked work "${awaiting.task}"`;
  return `${awaiting.method ?? 'request'} ${awaiting.path} (requestId ${awaiting.requestId})`;
}

/**
 * `; request POST /shutdown (requestId …) awaits runtime.shutdown() and could not end before it: …`,
 * for the deadline line; empty when nothing awaits it.
 */
export function awaitingNote(awaiting: readonly AwaitingShutdown[]): string {
  if (awaiting.length === 0) return '';
  const named = awaiting
    .map((one) => ('task' in one ? describe(one) : `request ${describe(one)}`))
    .join(', ');
  const fixes: string[] = [];
  if (awaiting.some((one) => !('task' in one)))
    fixes.push('answer first and do not await it (void runtime.shutdown())');
  if (awaiting.some((one) => 'task' in one))
    fixes.push('do not await it in tracked work (void runtime.shutdown())');
  const fix = fixes.join('; ');
  return `; ${named} ${awaiting.length === 1 ? 'awaits' : 'await'} runtime.shutdown() and could not end before it: ${fix}`;
}
