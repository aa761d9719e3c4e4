import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { type MutableRequestContext, runWithRequestContext, urlSlot } from '../http/context.js';
import { pathWithoutQuery } from '../http/path.js';

/** A request that awaits `runtime.shutdown()` before its response ended, as the lines name it. */
export interface AwaitingRequest {
  readonly requestId: string;
  readonly method: string | undefined;
  readonly path: string;
}

/** What the warning says of the deadline: the milliseconds left to it, and `shutdown.timeoutMs`. */
export interface DeadlineNote {
  readonly msLeft: () => number;
  readonly timeoutMs: number;
}

/**
 * The promise `runtime.shutdown()` gives a request: the shutdown's own, seen through `then`. A
 * promise of a class other than `Promise` has its `then` called by an `await` (and by an async
 * function returning it, and by `Promise.resolve`), where a native promise's `then` is never called;
 * `void` and `.catch()` pass no fulfilment callback, and are let go.
 */
class Watched<T> extends Promise<T> {
  // What `then` returns is a plain promise: only the one handed to the request is watched.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  #onAwait: (() => void) | undefined;

  static of<T>(result: Promise<T>, onAwait: () => void): Watched<T> {
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
    if (typeof onFulfilled === 'function' && this.#onAwait !== undefined) {
      const onAwait = this.#onAwait;
      this.#onAwait = undefined;
      onAwait();
    }
    return super.then(onFulfilled, onRejected);
  }
}

/**
 * The requests that await `runtime.shutdown()` before they answer (an admin route's
 * `await runtime.shutdown(); res.end()`). The drain waits for every request, that one too, and that
 * one waits for the shutdown: both last until the deadline, which cuts the request, skips the hooks
 * and exits 1. The kit keeps its word to wait for every request (not waiting would cut that one at
 * the exit all the same, with the hooks run before the route's code after the `await`), and says so:
 * when the request awaits, a warning naming it and what to write instead; at the deadline, the
 * timed-out line names it.
 */
export class AwaitingRequests {
  readonly #logger: Logger;
  readonly #deadline: DeadlineNote;
  readonly #awaiting: { readonly request: AwaitingRequest; readonly res: ServerResponse }[] = [];

  constructor(logger: Logger, deadline: DeadlineNote) {
    this.#logger = logger;
    this.#deadline = deadline;
  }

  /**
   * What `runtime.shutdown()` returns to the request of `context`, whose response `res` has not
   * ended: `result`, watched. Awaited while the response has still not ended, it warns, in the
   * request's context (its `requestId` and trace), and the deadline line will name the request.
   */
  watch<T>(result: Promise<T>, context: MutableRequestContext, res: ServerResponse): Promise<T> {
    // Checked a microtask later: `.then(cb)` or `.finally(cb)` calls `then` at once, before the
    // `res.end()` that may follow it; an `await` calls it a microtask later, suspended by then.
    return Watched.of(result, () => queueMicrotask(() => this.#warn(context, res)));
  }

  #warn(context: MutableRequestContext, res: ServerResponse): void {
    // Answered before the await (`res.json(…); await runtime.shutdown()`): the drain waits for nothing.
    if (res.writableEnded) return;
    const request: AwaitingRequest = {
      requestId: context.requestId,
      method: res.req?.method,
      path: pathWithoutQuery(context[urlSlot] ?? res.req?.url),
    };
    this.#awaiting.push({ request, res });
    const { msLeft, timeoutMs } = this.#deadline;
    runWithRequestContext(context, () =>
      this.#logger.warn(
        { ...request, timeoutMs },
        `runtime.shutdown() is awaited in request ${describe(request)} before its response ended: the drain waits for that request, and the request for the shutdown, so both wait until the deadline, ${msLeft()} ms from now (shutdown.timeoutMs ${timeoutMs}), which cuts the request (its client gets no answer), skips the onShutdown hooks and exits 1; answer first and do not await it (void runtime.shutdown()), or end the response before awaiting it`,
      ),
    );
  }

  /** The requests that awaited the shutdown and have still not answered. */
  unanswered(): AwaitingRequest[] {
    return this.#awaiting.filter(({ res }) => !res.writableEnded).map(({ request }) => request);
  }
}

/** `POST /admin/shutdown (requestId 4b2d…)`. */
function describe(request: AwaitingRequest): string {
  return `${request.method ?? 'request'} ${request.path} (requestId ${request.requestId})`;
}

/**
 * `; request POST /shutdown (requestId …) awaits runtime.shutdown() and could not end before it: …`,
 * for the deadline line; empty when no request awaits it.
 */
export function awaitingNote(requests: readonly AwaitingRequest[]): string {
  if (requests.length === 0) return '';
  const named = requests.map(describe).join(', ');
  const one = requests.length === 1;
  return `; request${one ? '' : 's'} ${named} ${one ? 'awaits' : 'await'} runtime.shutdown() and could not end before it: answer first and do not await it (void runtime.shutdown())`;
}
