import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { guardedPredicate } from '../../../src/http/request-predicate.js';

const req = { url: '/notes', headers: {} } as IncomingMessage;

describe('guardedPredicate', () => {
  it('answers yes only for true', () => {
    const told: unknown[] = [];
    for (const [answer, picked] of [
      [true, true],
      [false, false],
      ['yes', false],
      [1, false],
      [undefined, false],
    ] as const)
      expect(
        guardedPredicate(
          () => answer,
          'option',
          (e) => told.push(e),
        )(req),
      ).toBe(picked);
    expect(told).toEqual([]);
  });

  it('answers no for a function that throws, and tells once', () => {
    const told: unknown[] = [];
    const pick = guardedPredicate(
      () => {
        throw new Error('lookup failed');
      },
      'option',
      (e) => told.push(e),
    );
    expect([pick(req), pick(req), pick(req)]).toEqual([false, false, false]);
    expect(told).toHaveLength(1);
    expect((told[0] as Error).message).toBe('lookup failed');
  });

  it('answers no for a promise, tells once naming the option, and leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const told: unknown[] = [];
      const pick = guardedPredicate(
        async () => {
          throw new Error('async lookup failed');
        },
        'logging.debugRequests',
        (e) => told.push(e),
      );
      const resolving = guardedPredicate(
        async () => true,
        'quietRequests',
        (e) => told.push(e),
      );
      expect([pick(req), pick(req), resolving(req)]).toEqual([false, false, false]);
      await new Promise((resolve) => setTimeout(resolve, 20)); // past the microtasks that would report
      expect(unhandled).toEqual([]);
      expect((told as Error[]).map((e) => e.message)).toEqual([
        'logging.debugRequests returned a promise: it must answer at once, true or false',
        'quietRequests returned a promise: it must answer at once, true or false',
      ]);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });
});
