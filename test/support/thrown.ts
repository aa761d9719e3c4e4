import { expect } from 'vitest';

/** The error `fn` throws, checked to be an instance of `kind`; fails the test when it throws none. */
export function thrown<E extends Error>(fn: () => unknown, kind: abstract new (...args: never[]) => E): E {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(kind);
    return error as E;
  }
  throw new Error(`expected a ${kind.name}`);
}
