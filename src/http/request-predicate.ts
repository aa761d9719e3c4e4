import type { IncomingMessage } from 'node:http';

/** A question the app answers about a request as it arrives; the kit's version never throws. */
export type RequestPredicate = (req: IncomingMessage) => boolean;

/**
 * `predicate`, guarded: only `true` counts as yes; one that throws or returns a promise counts as no,
 * and `failed` is told, once (the first such request), with the error. A promise's rejection is
 * caught: an `async` predicate whose lookup fails must not become an unhandled rejection (which
 * shuts the process down by default).
 */
export function guardedPredicate(
  predicate: (req: IncomingMessage) => unknown,
  option: string,
  failed: (error: unknown) => void,
): RequestPredicate {
  let told = false;
  const tell = (error: unknown) => {
    if (told) return;
    told = true;
    failed(error);
  };
  return (req) => {
    try {
      const answer: unknown = predicate(req);
      if (typeof (answer as { then?: unknown } | null)?.then === 'function') {
        (answer as PromiseLike<unknown>).then(undefined, ignoreRejection);
        tell(new TypeError(`${option} returned a promise: it must answer at once, true or false`));
      }
      return answer === true;
    } catch (error) {
      tell(error);
      return false;
    }
  };
}

/** What became of a promise nobody waits for: its rejection is not an error of the process. */
function ignoreRejection(): void {}
