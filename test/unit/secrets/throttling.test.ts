import { describe, expect, it, vi } from 'vitest';
import { SecretFetchError } from '../../../src/errors.js';
import { isThrottling, isTransient, retryTransient } from '../../../src/secrets/throttling.js';

function awsError(name: string, status = 400): Error {
  return Object.assign(new Error('Rate exceeded'), { name, $metadata: { httpStatusCode: status } });
}

/** A function that throws `errors` in turn, then answers 'loaded'; counts its calls. */
function failing(...errors: Error[]) {
  const calls = { count: 0 };
  const fn = async () => {
    calls.count++;
    const error = errors.shift();
    if (error !== undefined) throw error;
    return 'loaded';
  };
  return { fn, calls };
}

const signal = new AbortController().signal;

describe('isThrottling', () => {
  it('knows the throttling answers of AWS services, wrapped by the kit or not', () => {
    for (const name of [
      'ThrottlingException',
      'TooManyRequestsException',
      'RequestLimitExceeded',
      'SlowDown',
    ])
      expect(isThrottling(awsError(name)), name).toBe(true);
    expect(isThrottling(awsError('Whatever', 429))).toBe(true);
    expect(
      isThrottling(new SecretFetchError('x', { reference: 'ssm:/a', awsCode: 'ThrottlingException' })),
    ).toBe(true);
    expect(
      isThrottling(new SecretFetchError('x', { reference: 'ssm:/a', cause: awsError('Throttling') })),
    ).toBe(true);
    for (const error of [
      awsError('AccessDeniedException'),
      awsError('InternalFailure', 500),
      new Error('x'),
      undefined,
    ])
      expect(isThrottling(error)).toBe(false);
  });
});

describe('isTransient', () => {
  it('takes throttling, server errors and failed or timed-out connections as worth another call', () => {
    const connection = (code: string) => Object.assign(new Error(code), { code });
    for (const error of [
      awsError('ThrottlingException'),
      awsError('InternalFailure', 500),
      awsError('Whatever', 503),
      awsError('ServiceUnavailableException'),
      connection('ECONNRESET'),
      connection('ETIMEDOUT'),
      Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }),
      new SecretFetchError('x', { reference: 'ssm:/a', cause: awsError('InternalServerError', 500) }),
    ])
      expect(isTransient(error), String(error)).toBe(true);
    for (const error of [
      awsError('AccessDeniedException'),
      awsError('ParameterNotFound'),
      awsError('ValidationException'),
      Object.assign(new Error('aborted'), { name: 'AbortError' }),
      connection('ENOTFOUND'),
      new Error('x'),
      undefined,
    ])
      expect(isTransient(error), String(error)).toBe(false);
  });
});

describe('retryTransient', () => {
  it('retries throttled calls with full-jitter exponential backoff until one succeeds', async () => {
    const { fn, calls } = failing(
      awsError('ThrottlingException'),
      awsError('ThrottlingException'),
      awsError('Throttling'),
    );
    const waits: number[] = [];
    const result = await retryTransient(fn, {
      signal,
      deadline: performance.now() + 10_000,
      baseMs: 4,
      capMs: 10,
      random: () => 0.5,
      onRetry: (ms: number) => waits.push(ms),
    });
    expect(result).toBe('loaded');
    expect(calls.count).toBe(4);
    // Uniform in [0, min(cap, base × 2^attempt)): here its middle.
    expect(waits).toEqual([2, 4, 5]);
  });

  it('does not retry what is not transient', async () => {
    const denied = awsError('AccessDeniedException');
    const { fn, calls } = failing(denied);
    await expect(retryTransient(fn, { signal, deadline: performance.now() + 10_000 })).rejects.toBe(denied);
    expect(calls.count).toBe(1);
  });

  it('shortens a wait that would pass the deadline, and gives up once less than a base interval is left', async () => {
    // A clock that moves by the waits alone: how late a busy machine fires timers does not count.
    let now = 0;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => now);
    try {
      const throttled = awsError('ThrottlingException');
      const { fn, calls } = failing(...Array.from({ length: 10 }, () => throttled));
      const waits: number[] = [];
      await expect(
        retryTransient(fn, {
          signal,
          deadline: 100,
          baseMs: 40,
          capMs: 1_000,
          random: () => 0.99,
          onRetry: (ms: number) => {
            waits.push(ms);
            now += ms;
          },
        }),
      ).rejects.toBe(throttled);
      // The first draw (39.6 ms) fits; the second (79.2 ms) is cut to end 40 ms before the deadline;
      // then less than 40 ms is left, and no retry starts.
      expect(waits).toHaveLength(2);
      expect(waits[0]).toBeCloseTo(39.6, 5);
      expect(waits[1]).toBeCloseTo(20.4, 5);
      expect(calls.count).toBe(3);
    } finally {
      clock.mockRestore();
    }
  });

  it('stops waiting when the budget is aborted', async () => {
    const throttled = awsError('ThrottlingException');
    const controller = new AbortController();
    const { fn } = failing(throttled, throttled);
    const pending = retryTransient(fn, {
      signal: controller.signal,
      deadline: performance.now() + 60_000,
      baseMs: 30_000,
      capMs: 30_000,
      random: () => 0.99,
    });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toBe(throttled);
  });
});
