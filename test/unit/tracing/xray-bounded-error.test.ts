import { describe, expect, it } from 'vitest';
import {
  boundedError,
  cutText,
  maxExceptionMessage,
  maxStackFrames,
} from '../../../src/tracing/xray/bounded-error.js';
import { zodLikeError } from '../../support/xray/errors.js';

/** An error thrown `depth` calls deep, with V8 capturing every frame. */
function deepError(depth: number): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Number.POSITIVE_INFINITY;
  try {
    const recurse = (n: number): Error => (n === 0 ? new Error('deep') : recurse(n - 1));
    return recurse(depth);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

describe('cutText', () => {
  it('keeps a short text as it is', () => {
    expect(cutText('db down', 10)).toBe('db down');
  });

  it('cuts a long one, saying how much was cut', () => {
    expect(cutText('x'.repeat(5_000), 2_048)).toBe(`${'x'.repeat(2_048)}… [2952 characters cut]`);
  });

  it('never cuts a surrogate pair in two', () => {
    const text = `${'x'.repeat(9)}😀${'y'.repeat(10)}`; // the emoji's halves at 10 and 11
    const cut = cutText(text, 10);
    expect(cut.isWellFormed()).toBe(true);
    expect(cut).toBe(`${'x'.repeat(9)}… [12 characters cut]`);
    expect(Buffer.from(cut, 'utf8').toString('utf8')).toBe(cut);
  });
});

describe('boundedError', () => {
  it('gives an ordinary error back as it is', () => {
    const error = new TypeError('broken');
    expect(boundedError(error)).toBe(error);
  });

  it('a ZodError-like error: its name, its message cut with a marker, its real frames only', () => {
    const error = zodLikeError(100);
    expect(error.message.length).toBeGreaterThan(19_000);

    const bounded = boundedError(error);

    expect(bounded).not.toBe(error);
    expect(bounded.name).toBe('ZodError');
    expect(bounded.message.length).toBeLessThan(maxExceptionMessage + 40);
    expect(bounded.message.startsWith(error.message.slice(0, maxExceptionMessage))).toBe(true);
    expect(bounded.message).toMatch(/… \[\d+ characters cut\]$/);
    const [header, ...frames] = bounded.stack!.split('\n');
    expect(header).toBe('ZodError');
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.every((line) => /^\s+at /.test(line))).toBe(true);
  });

  it('a short message of several lines: the message kept, its lines not taken for frames', () => {
    const error = zodLikeError(10);
    expect(error.message.length).toBeLessThan(maxExceptionMessage);
    const bounded = boundedError(error);
    expect(bounded.message).toBe(error.message);
    expect(bounded.stack!.split('\n').slice(1)).toEqual(
      error.stack!.split('\n').filter((line) => line.startsWith('    at ')),
    );
  });

  it(`keeps at most ${maxStackFrames} frames, and counts the others`, () => {
    const error = deepError(80);
    const frames = error.stack!.split('\n').length - 1;
    expect(frames).toBeGreaterThan(maxStackFrames);
    const bounded = boundedError(error) as { stack: string; omittedFrames: number };
    expect(bounded.stack.split('\n')).toHaveLength(1 + maxStackFrames);
    expect(bounded.omittedFrames).toBe(frames - maxStackFrames);
  });

  it('gives the same object for the same error, every time', () => {
    const error = zodLikeError(100);
    expect(boundedError(error)).toBe(boundedError(error));
  });
});
