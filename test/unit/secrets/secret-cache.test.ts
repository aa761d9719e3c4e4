import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SecretFetchError, SecretNotFoundError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logging/logger.js';
import { RedactionRegistry } from '../../../src/logging/redaction.js';
import type { FetchedSecret, SecretProvider } from '../../../src/secrets/provider.js';
import { parseSecretReference } from '../../../src/secrets/reference.js';
import { SecretCache, type SecretCacheSettings } from '../../../src/secrets/secret-cache.js';
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

  it('serves a fresh value from memory, and refreshes it once past its TTL with jitter of at most 10 %', async () => {
    const script = scriptedProvider();
    const { cache } = cacheWith(script.provider);
    await cache.get(ref);
    await delay(150);
    await cache.get(ref);
    expect(script.calls).toHaveLength(1); // 150 ms < 0.9 × 200 ms: still fresh
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
