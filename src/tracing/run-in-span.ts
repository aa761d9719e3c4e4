/** How a span's function ended: `undefined` on success, else what it threw or rejected with. */
export type SpanEnding = { readonly value: unknown } | undefined;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Runs a span's function and calls `end` once it has finished: at once when it returns or throws,
 * or when the promise it returned settles. What `fn` returns or throws passes through unchanged (a
 * thenable comes back as a promise), for every tracing backend alike.
 */
export function runInSpan<T>(fn: () => T, end: (ending: SpanEnding) => void): T {
  let result: T;
  try {
    result = fn();
  } catch (error) {
    end({ value: error });
    throw error;
  }
  if (!isThenable(result)) {
    end(undefined);
    return result;
  }
  return Promise.resolve(result).then(
    (value) => {
      end(undefined);
      return value;
    },
    (error: unknown) => {
      end({ value: error });
      throw error;
    },
  ) as T;
}
