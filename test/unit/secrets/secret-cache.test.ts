import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SecretFetchError, SecretNotFoundError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logging/logger.js';
import { RedactionRegistry } from '../../../src/logging/redaction.js';
import type { FetchedSecret, SecretProvider } from '../../../src/secrets/provider.js';
import type { SecretReference } from '../../../src/secrets/reference.js';
import { parseSecretReference } from '../../../src/secrets/reference.js';
import { SecretCache, type SecretCacheSettings } from '../../../src/secrets/secret-cache.js';
import { createSecretStore } from '../../../src/secrets/secret-store.js';
import { captureLogs } from '../../support/log-capture.js';

const ref = parseSecretReference('env:TOKEN');
const settings: SecretCacheSettings = {
  ttlMs: 200,
  maxEntries: 10,
  backoffBaseMs: 100,
  backoffMaxMs: 400,
  fetchTimeoutMs: 300,
};

/** A provider whose answers the test scripts: a value, an error, or a hang. */
function scriptedProvider() {
  const calls: number[] = [];
  let next: () => Promise<FetchedSecret> = async () => ({ value: 'value-1', sensitive: true, version: 'v1' });
  const provider: SecretProvider = {
    fetch: () => {
      calls.push(performance.now());
      return next();
    },
  };
  return {
    provider,
    calls,
    answer(value: string, version = value) {
      next = async () => ({ value, sensitive: true, version });
    },
    fail(message = 'throttled') {
      next = async () => Promise.reject(new Error(message));
    },
    slow(ms: number, value: string) {
      next = () => delay(ms).then(() => ({ value, sensitive: true }));
    },
  };
}

function cacheWith(provider: SecretProvider, overrides: Partial<SecretCacheSettings> = {}) {
  const logs = captureLogs();
  const redaction = new RedactionRegistry();
  const cache = new SecretCache(
    { ...settings, ...overrides },
    () => provider,
    redaction,
    createLogger({ service: 't', destination: logs }),
  );
  return { cache, logs, redaction };
}

describe('SecretCache', () => {
  it('fetches once for concurrent callers (single-flight)', async () => {
    const script = scriptedProvider();
    script.slow(30, 'shared-value');
    const { cache } = cacheWith(script.provider);
    const values = await Promise.all(Array.from({ length: 50 }, () => cache.get(ref)));
    expect(new Set(values.map((v) => v.value))).toEqual(new Set(['shared-value']));
    expect(script.calls).toHaveLength(1);
  });

  it('serves a fresh value from memory, and refreshes it once past its TTL with jitter of at most 20 %', async () => {
    const script = scriptedProvider();
    const { cache } = cacheWith(script.provider);
    await cache.get(ref);
    await delay(150);
    await cache.get(ref);
    expect(script.calls).toHaveLength(1); // 150 ms < 0.8 × 200 ms: still fresh
    await delay(70);
    await cache.get(ref);
    expect(script.calls).toHaveLength(2); // 220 ms > 200 ms: expired
  });

  it('returns the stale value at once from peek and refreshes it in the background', async () => {
    const script = scriptedProvider();
    const { cache } = cacheWith(script.provider);
    await cache.get(ref);
    script.slow(50, 'value-2');
    await delay(220);
    expect(cache.peek(ref)?.value).toBe('value-1');
    expect(cache.peek(ref)?.value).toBe('value-1');
    expect(script.calls).toHaveLength(2); // one refresh for both peeks
    await delay(80);
    expect(cache.peek(ref)?.value).toBe('value-2');
  });

  it('keeps serving the cached value when refreshes fail, backing off, logging once per streak', async () => {
    const script = scriptedProvider();
    const { cache, logs } = cacheWith(script.provider);
    await cache.get(ref);
    script.fail('ThrottlingException');
    await delay(220);
    const until = performance.now() + 700;
    while (performance.now() < until) {
      expect((await cache.get(ref)).value).toBe('value-1');
      expect(cache.peek(ref)?.value).toBe('value-1');
      await delay(10);
    }
    // Attempts at ~0, then after ~100, ~200, ~400 ms of backoff (±20 %): 3 or 4, never one per access.
    const attempts = script.calls.length - 1;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(4);
    expect(cache.info(ref)?.failures).toBe(attempts);
    expect(logs.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    script.answer('value-2');
    await delay(600); // past the longest backoff, 400 ms + 20 %
    expect((await cache.get(ref)).value).toBe('value-2');
    expect(logs.lines.some((l) => String(l.msg).includes('refreshed again after'))).toBe(true);
  });

  it('rejects when nothing is cached and the fetch fails, wrapping foreign errors', async () => {
    const script = scriptedProvider();
    script.fail('boom');
    const { cache } = cacheWith(script.provider);
    await expect(cache.get(ref)).rejects.toBeInstanceOf(SecretFetchError);
    const notFound: SecretProvider = {
      fetch: async () => Promise.reject(new SecretNotFoundError('gone', { reference: 'env:TOKEN' })),
    };
    await expect(cacheWith(notFound).cache.get(ref)).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('bounds a fetch that never answers', async () => {
    const hanging: SecretProvider = {
      fetch: (_ref, signal) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    };
    const started = performance.now();
    await expect(cacheWith(hanging).cache.get(ref)).rejects.toThrow(/timed out after 300 ms/);
    expect(performance.now() - started).toBeLessThan(600);
  });

  it('refresh() fetches at once, invalidate() makes the next access refresh', async () => {
    const script = scriptedProvider();
    const { cache } = cacheWith(script.provider, { ttlMs: 60_000 });
    await cache.get(ref);
    script.answer('rotated-1');
    expect((await cache.refresh(ref)).value).toBe('rotated-1');
    script.answer('rotated-2');
    cache.invalidate(ref);
    expect(cache.peek(ref)?.value).toBe('rotated-1');
    await delay(10);
    expect(cache.peek(ref)?.value).toBe('rotated-2');
    expect(script.calls).toHaveLength(3);
  });

  it('registers sensitive values with the redaction registry, and logs a rotation without values', async () => {
    const script = scriptedProvider();
    const { cache, redaction, logs } = cacheWith(script.provider, { ttlMs: 60_000 });
    await cache.get(ref);
    script.answer('value-rotated', 'v2');
    await cache.refresh(ref);
    expect(redaction.has('value-1')).toBe(true);
    expect(redaction.has('value-rotated')).toBe(true);
    const rotated = logs.lines.find((l) => String(l.msg).includes('rotated'));
    expect(rotated).toMatchObject({ previousVersion: 'v1', version: 'v2' });
    expect(JSON.stringify(logs.lines)).not.toContain('value-rotated"');
  });

  it('keeps "" and "0" as values, and warns that a short value cannot be masked', async () => {
    const script = scriptedProvider();
    const { cache, logs } = cacheWith(script.provider);
    script.answer('');
    expect((await cache.get(ref)).value).toBe('');
    const other = parseSecretReference('env:PIN');
    script.answer('0');
    expect((await cache.get(other)).value).toBe('0');
    expect(logs.lines.some((l) => String(l.msg).includes('cannot be masked'))).toBe(true);
  });

  it('evicts the least recently used entries beyond the bound, never pinned ones', async () => {
    const script = scriptedProvider();
    const { cache } = cacheWith(script.provider, { maxEntries: 3 });
    const pinned = parseSecretReference('env:PINNED');
    await cache.get(pinned, { pinned: true });
    for (let i = 0; i < 5; i++) await cache.get(parseSecretReference(`env:N${i}`));
    expect(cache.size).toBe(3);
    expect(cache.peek(pinned)).toBeDefined();
    expect(cache.peek(parseSecretReference('env:N4'))).toBeDefined();
    expect(cache.peek(parseSecretReference('env:N0'))).toBeUndefined();
  });
});

/**
 * A provider with `fetchMany`: records each batch's references (and each single fetch), and answers
 * each reference with `answer(reference)`, an error to fail that one alone.
 */
function batchingProvider(answer: (reference: SecretReference) => FetchedSecret | Error) {
  const batches: string[][] = [];
  const singles: string[] = [];
  let failAll: Error | undefined;
  const provider: SecretProvider = {
    async fetch(reference) {
      singles.push(reference.raw);
      const result = answer(reference);
      if (result instanceof Error) throw result;
      return result;
    },
    async fetchMany(references) {
      batches.push(references.map((r) => r.raw));
      if (failAll !== undefined) throw failAll;
      return new Map(references.map((r) => [r, answer(r)]));
    },
  };
  return {
    provider,
    batches,
    singles,
    failEverything(error: Error | undefined) {
      failAll = error;
    },
  };
}

describe('SecretCache: refreshes that fall due together', () => {
  // A clock the test moves, and no jitter (Math.random() = 0): each value expires exactly one TTL
  // after it was fetched, and a failed refresh backs off exactly 0.8 × its backoff.
  let now = 0;
  const settle = () => delay(5);
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function setUp(answer: (reference: SecretReference) => FetchedSecret | Error) {
    now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const env = batchingProvider(answer);
    const file = batchingProvider(answer);
    const logs = captureLogs();
    const cache = new SecretCache(
      settings, // TTL 200 ms: the jitter window is its last 40 ms
      (reference) => (reference.kind === 'file' ? file.provider : env.provider),
      new RedactionRegistry(),
      createLogger({ service: 't', destination: logs }),
    );
    return { cache, env, file, logs };
  }

  const [a, b, c, d, e] = ['A', 'B', 'C', 'D', 'E'].map((n) => parseSecretReference(`env:${n}`)) as [
    SecretReference,
    SecretReference,
    SecretReference,
    SecretReference,
    SecretReference,
  ];
  const other = parseSecretReference('file:/run/secrets/token');
  let version = 'v1';
  const answer = (reference: SecretReference): FetchedSecret => ({
    value: `${reference.raw}-${version}`,
    sensitive: true,
    version,
  });

  it('refreshes, in one fetchMany, the entry read and those of its provider due or within their jitter window', async () => {
    version = 'v1';
    const { cache, env, file } = setUp((r) => answer(r));
    for (const reference of [a, b, c, other]) cache.store(reference, answer(reference)); // expire at 200
    cache.store(d, answer(d), { ttlMs: 1_000 }); // expires at 1,000
    now = 100;
    cache.store(e, answer(e)); // expires at 300
    version = 'v2';

    now = 270; // a, b, c and other due; e fresh, within 40 ms of expiry; d fresh, 730 ms from it
    expect((await cache.get(a)).version).toBe('v2');
    await settle();
    expect(env.batches).toEqual([['env:A', 'env:B', 'env:C', 'env:E']]);
    expect(env.singles).toEqual([]);
    expect(file.batches).toEqual([]); // another provider's entry waits for its own read
    expect([b, c, e].map((r) => cache.info(r))).toEqual(
      Array(3).fill({ version: 'v2', stale: false, failures: 0 }),
    );
    expect(cache.info(d)?.version).toBe('v1');

    // Read in any order, the refreshed values cost no call more until they fall due again.
    for (const reference of [c, b, e, a, d]) cache.peek(reference);
    await settle();
    expect(env.batches).toHaveLength(1);
    expect(env.singles).toEqual([]);
  });

  it('keeps each member’s outcome on its own entry: one failure is served stale and logged, the others take their value', async () => {
    version = 'v1';
    const failing = new Error('ParameterNotFound');
    const { cache, env, logs } = setUp((r) => (r === c && version === 'v2' ? failing : answer(r)));
    for (const reference of [a, b, c]) cache.store(reference, answer(reference));
    version = 'v2';
    now = 210;
    expect(cache.peek(b)?.version).toBe('v1'); // stale while it revalidates
    await settle();
    expect(env.batches).toEqual([['env:B', 'env:A', 'env:C']]);
    expect(cache.info(a)).toEqual({ version: 'v2', stale: false, failures: 0 });
    expect(cache.info(c)).toEqual({ version: 'v1', stale: true, failures: 1 });
    expect(cache.peek(c)?.value).toBe('env:C-v1');
    const warned = logs.lines.filter((l) => l.level === 'warn');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ reference: 'env:C' });

    // c backs off until 210 + 0.8 × 100 ms; a batch another entry starts before then takes it along.
    now = 240;
    expect(cache.peek(c)?.version).toBe('v1');
    await settle();
    expect(env.batches).toHaveLength(1); // c's own read waits out its backoff
    cache.invalidate(a);
    cache.peek(a);
    await settle();
    expect(env.batches[1]).toEqual(['env:A', 'env:C']); // b, fresh until 410, stays out
  });

  it('gives the values of a batch one draw of jitter: they fall due together again', async () => {
    version = 'v1';
    const { cache } = setUp((r) => answer(r));
    for (const reference of [a, b, c]) cache.store(reference, answer(reference), {}, 0); // due at 200
    vi.mocked(Math.random).mockReturnValueOnce(0.5); // the batch's draw
    now = 210;
    cache.peek(a);
    await settle();
    // One draw: all three due at 210 + 200 × (1 − 0.5 × 0.2) = 390. A draw each (0.5, then 0) would
    // leave b and c fresh until 410, to be brought along by a's next batch, not to fall due with it.
    now = 389;
    expect([a, b, c].map((r) => cache.info(r)?.stale)).toEqual([false, false, false]);
    now = 391;
    expect([a, b, c].map((r) => cache.info(r)?.stale)).toEqual([true, true, true]);
  });

  it('gives the values a store loads at start-up one draw of jitter', async () => {
    setUp((r) => answer(r));
    vi.mocked(Math.random).mockReturnValueOnce(0.5);
    const store = createSecretStore({
      env: { A: 'alpha-value', B: 'bravo-value', C: 'charlie-value' },
      secrets: { A: 'env:A', B: 'env:B', C: 'env:C' },
      options: { ttlMs: 1_000 },
    });
    await store.load();
    now = 899; // 1,000 × (1 − 0.5 × 0.2) = 900
    expect(['A', 'B', 'C'].map((name) => store.info(name)?.stale)).toEqual([false, false, false]);
    now = 901;
    expect(['A', 'B', 'C'].map((name) => store.info(name)?.stale)).toEqual([true, true, true]);
  });

  it('fails every member when the whole batch fails, and they retry together', async () => {
    version = 'v1';
    const { cache, env } = setUp((r) => answer(r));
    for (const reference of [a, b, c]) cache.store(reference, answer(reference));
    env.failEverything(new Error('ThrottlingException'));
    now = 210;
    cache.peek(a);
    await settle();
    expect([a, b, c].map((r) => cache.info(r)?.failures)).toEqual([1, 1, 1]);
    expect([a, b, c].map((r) => cache.peek(r)?.version)).toEqual(['v1', 'v1', 'v1']);

    env.failEverything(undefined);
    version = 'v2';
    now = 300; // past the backoff (0.8 × 100 ms)
    expect((await cache.get(c)).version).toBe('v2');
    await settle();
    expect(env.batches).toEqual([
      ['env:A', 'env:B', 'env:C'],
      ['env:C', 'env:A', 'env:B'],
    ]);
    expect([a, b].map((r) => cache.info(r)?.version)).toEqual(['v2', 'v2']);
  });
});
