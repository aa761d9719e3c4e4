import type { EventEmitter } from 'node:events';

/** What {@link waitForCondition} watches. */
export interface WaitForCondition<T> {
  /** Emits `event` whenever the condition may have changed. */
  readonly emitter: EventEmitter;
  readonly event: string;
  /** Checked at once and on every `event`. */
  readonly until: () => boolean;
  /** The value to resolve with, taken as soon as `until` holds. */
  readonly value: () => T;
  readonly timeoutMs: number;
  /** The message to reject with after `timeoutMs`, built then (so it can report the state at that time). */
  readonly failure: () => string;
}

/**
 * Resolves with `value()` once `until()` holds, checking at once and on each `event` of `emitter`;
 * rejects with `new Error(failure())` after `timeoutMs`. The listener and timer are removed either way.
 */
export function waitForCondition<T>(options: WaitForCondition<T>): Promise<T> {
  const { emitter, event, until, value, timeoutMs, failure } = options;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!until()) return;
      cleanup();
      resolve(value());
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(failure()));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, check);
    };
    emitter.on(event, check);
    check();
  });
}
