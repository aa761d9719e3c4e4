/** Resolves after `ms`, on a timer that never keeps the process alive. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** What {@link withTimeout} resolves to: the settled value or reason, or that the bound was hit. */
export type Bounded<T> =
  | { readonly outcome: 'fulfilled'; readonly value: T }
  | { readonly outcome: 'rejected'; readonly reason: unknown }
  | { readonly outcome: 'timed-out' };

/**
 * Settles `promise` or gives up after `ms`, whichever comes first, never rejecting. The timer is
 * cleared as soon as the promise settles; it is unref'd unless `keepAlive` (a bound the process
 * waits on, as a start-up's: work that holds no handle would otherwise let Node end the process
 * with "unsettled top-level await", exit 13, and no word of the kit's).
 */
export function withTimeout<T>(promise: PromiseLike<T>, ms: number, keepAlive = false): Promise<Bounded<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ outcome: 'timed-out' }), ms);
    if (!keepAlive) timer.unref();
    Promise.resolve(promise).then(
      (value) => {
        clearTimeout(timer);
        resolve({ outcome: 'fulfilled', value });
      },
      (reason: unknown) => {
        clearTimeout(timer);
        resolve({ outcome: 'rejected', reason });
      },
    );
  });
}

/** What {@link abortAfter} returns: the signal, and `clear` to cancel the timer once the work is done. */
export interface AbortTimer {
  readonly signal: AbortSignal;
  readonly clear: () => void;
}

/**
 * A signal that aborts after `ms` with `reason` (the default `AbortError` when absent), on a timer
 * that never keeps the process alive. Call `clear` as soon as the work settles.
 */
export function abortAfter(ms: number, reason?: unknown): AbortTimer {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(reason), ms);
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
