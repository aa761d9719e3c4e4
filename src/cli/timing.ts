/**
 * Waits of the checker. Unlike the library's timers these are not unref'd: a command-line tool whose
 * only pending work is a wait must not exit in the middle of it (with code 0, which CI would read as
 * a pass). Each wait is bounded, and cleared as soon as what it waits for happens.
 */

/** Resolves after `ms`. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, Math.max(0, ms));
  });
}

/**
 * Resolves with `promise`'s value, or with `undefined` after `ms` — whichever comes first. The timer
 * is cleared when the promise settles; a rejection resolves `undefined` too.
 */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

/** Milliseconds since `since` (a `performance.now()` reading), rounded to 0.1 ms. */
export function elapsedSince(since: number): number {
  return Math.round((performance.now() - since) * 10) / 10;
}
