import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  SecretAccessDeniedError,
  SecretFetchError,
  SecretNotFoundError,
  SecretTimeoutError,
} from '../../../src/errors.js';
import { getRequestContext, runWithRequestContext } from '../../../src/http/context.js';
import { createLogger } from '../../../src/logging/logger.js';
import { maxRetiredValues, RedactionRegistry } from '../../../src/logging/redaction.js';
import { maxMaskedJsonFields } from '../../../src/secrets/json-fields.js';
import type { FetchedSecret, SecretProvider } from '../../../src/secrets/provider.js';
import type { SecretReference } from '../../../src/secrets/reference.js';
import { parseSecretReference } from '../../../src/secrets/reference.js';
import { SecretCache, type SecretCacheSettings } from '../../../src/secrets/secret-cache.js';
import { createSecretStore } from '../../../src/secrets/secret-store.js';
import { captureLogs } from '../../support/log-capture.js';
import { testRequestContext } from '../../support/request-context.js';

const ref = parseSecretReference('env:TOKEN');
const settings: SecretCacheSettings = {
  ttlMs: 200,
  maxEntries: 10,
  backoffBaseMs: 100,
  ownFailureBackoffBaseMs: 100, // as the others: the tests of its own base set it
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
    next(answer: () => Promise<FetchedSecret>) {
      next = answer;
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
    await delay(100);
    await cache.get(ref);
    expect(script.calls).toHaveLength(1); // 100 ms < 0.8 × 200 ms: still fresh
    await delay(120);
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

  /** A provider recording the request each fetch ran in; its refreshes fail when `failRefreshes`. */
  function contextRecorder(failRefreshes: boolean) {
    const seen: (string | undefined)[] = [];
    const provider: SecretProvider = {
      fetch: async () => {
        seen.push(getRequestContext()?.requestId);
        if (failRefreshes && seen.length > 1) throw new Error('refresh failed');
        return { value: `value-${seen.length}`, sensitive: true, version: `v${seen.length}` };
      },
    };
    return { seen, ...cacheWith(provider) };
  }

  it("refreshes outside the request that peeked: the refresh's call and lines are not that request's", async () => {
    const { seen, cache, logs } = contextRecorder(true);
    await runWithRequestContext(testRequestContext('awaits-the-fetch'), () => cache.get(ref));
    await delay(220);
    runWithRequestContext(testRequestContext('peeks'), () => cache.peek(ref));
    await delay(30);
    expect(seen).toEqual(['awaits-the-fetch', undefined]);
    const failure = logs.lines.find((line) => line.level === 'warn');
    expect(failure).toBeDefined();
    expect(failure).not.toHaveProperty('requestId');
  });

  it('refreshes outside the request that awaits a value past its TTL, which still gets the new value', async () => {
    const { seen, cache } = contextRecorder(false);
    await cache.get(ref);
    await delay(220);
    const fetched = await runWithRequestContext(testRequestContext('awaits'), async () => {
      const value = await cache.get(ref);
      return { value: value.value, after: getRequestContext()?.requestId };
    });
    expect(fetched).toEqual({ value: 'value-2', after: 'awaits' });
    expect(seen).toEqual([undefined, undefined]);
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

  it('refresh() does not join a fetch sent before it (a rotation may have come between): it fetches after it, once for its callers', async () => {
    const script = scriptedProvider();
    const { cache } = cacheWith(script.provider, { ttlMs: 60_000 });
    await cache.get(ref);
    script.slow(50, 'before-rotation');
    cache.invalidate(ref);
    expect(cache.peek(ref)?.value).toBe('value-1'); // a background refresh, sent now
    script.answer('after-rotation');
    const refreshed = [cache.refresh(ref), cache.refresh(ref), cache.refresh(ref)];
    expect((await Promise.all(refreshed)).map((f) => f.value)).toEqual([
      'after-rotation',
      'after-rotation',
      'after-rotation',
    ]);
    expect(script.calls).toHaveLength(3); // the first read, the background refresh, one refresh
    expect(cache.peek(ref)?.value).toBe('after-rotation');
  });

  it('backs off from ownFailureBackoffBaseMs after a failure about the value itself (not found), from backoffBaseMs after one of the call', async () => {
    const script = scriptedProvider();
    const { cache } = cacheWith(script.provider, {
      backoffBaseMs: 10,
      ownFailureBackoffBaseMs: 1_000,
      backoffMaxMs: 5_000,
    });
    script.fail('throttled');
    await expect(cache.get(ref)).rejects.toThrow('throttled');
    const now = performance.now();
    const clock = vi.spyOn(performance, 'now');
    try {
      clock.mockReturnValue(now + 20); // past 10 ms (± 20 %): asked again
      script.next(async () =>
        Promise.reject(new SecretNotFoundError('env:TOKEN: not set', { reference: 'env:TOKEN' })),
      );
      await expect(cache.get(ref)).rejects.toThrow('not set');
      expect(script.calls).toHaveLength(2);
      // A missing value: its second failure in a row waits 2 × 1,000 ms (± 20 %), not 2 × 10 ms.
      for (const at of [100, 1_000, 1_500]) {
        clock.mockReturnValue(now + 20 + at);
        cache.peek(ref);
      }
      await delay(5);
      expect(script.calls).toHaveLength(2);
      clock.mockReturnValue(now + 20 + 2_500);
      cache.peek(ref);
      await delay(5);
      expect(script.calls).toHaveLength(3);
    } finally {
      clock.mockRestore();
    }
  });

  it('refresh() calls within minRefreshIntervalMs of one that fetched share its result: one call per interval, not per failing request', async () => {
    const script = scriptedProvider();
    const { cache } = cacheWith(script.provider, { ttlMs: 60_000, minRefreshIntervalMs: 100 });
    await cache.get(ref);
    script.answer('rotated');
    // An app that refreshes on each authentication failure, 20 failing requests in a row.
    for (let i = 0; i < 20; i++) expect((await cache.refresh(ref)).value).toBe('rotated');
    expect(script.calls).toHaveLength(2);
    script.fail('still denied');
    await expect(cache.refresh(ref)).resolves.toMatchObject({ value: 'rotated' }); // within the interval
    await delay(120);
    await expect(cache.refresh(ref)).rejects.toThrow('still denied');
    await expect(cache.refresh(ref)).rejects.toThrow('still denied'); // shared, not sent again
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

  it('says once per reference that its short value cannot be masked, not at every refresh', async () => {
    const script = scriptedProvider();
    const { cache, logs } = cacheWith(script.provider);
    script.answer('u1');
    await cache.get(ref);
    await cache.refresh(ref);
    script.answer('u2');
    await cache.refresh(ref);
    const other = parseSecretReference('env:PORT');
    script.answer('5432');
    await cache.get(other);
    const warnings = logs.lines.filter((l) => String(l.msg).includes('cannot be masked'));
    expect(warnings.map((l) => l.reference)).toEqual(['env:TOKEN', 'env:PORT']);
  });

  it('forgets which references it said so of once they are evicted (the set grows with the entries only)', async () => {
    const script = scriptedProvider();
    const { cache, logs } = cacheWith(script.provider, { maxEntries: 1 });
    script.answer('u1');
    await cache.get(ref);
    await cache.get(parseSecretReference('env:PORT')); // evicts env:TOKEN
    await cache.get(ref); // back: said again
    const warnings = logs.lines.filter((l) => String(l.msg).includes('cannot be masked'));
    expect(warnings.map((l) => l.reference)).toEqual(['env:TOKEN', 'env:PORT', 'env:TOKEN']);
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

  it('keeps a value masked once rotated out or evicted (code that read it may still log it)', async () => {
    const script = scriptedProvider();
    const { cache, redaction } = cacheWith(script.provider, { maxEntries: 2 });
    const [a, b, c] = ['env:A', 'env:B', 'env:C'].map((raw) => parseSecretReference(raw));
    script.answer('shared-value');
    await cache.get(a!);
    await cache.get(b!); // the same value under another reference
    script.answer('rotated-value');
    await cache.refresh(a!);
    script.answer('third-value');
    await cache.get(c!); // evicts one of A and B
    expect(cache.size).toBe(2);
    expect(['shared-value', 'rotated-value', 'third-value'].map((v) => redaction.has(v))).toEqual([
      true,
      true,
      true,
    ]);
    expect(redaction.size).toBe(3);
  });

  it('grows the registry by no more than its bound with a new secret per tenant', async () => {
    const provider: SecretProvider = {
      fetch: async (reference) => ({ value: `value-of-${reference.raw}`, sensitive: true }),
    };
    const { cache, redaction, logs } = cacheWith(provider, { maxEntries: 10 });
    const tenants = maxRetiredValues + 50;
    for (let i = 0; i < tenants; i++) await cache.get(parseSecretReference(`env:TENANT_${i}`));
    expect(redaction.size).toBe(maxRetiredValues + 10);
    expect(redaction.has('value-of-env:TENANT_0')).toBe(false); // the oldest retired: dropped
    expect(redaction.has(`value-of-env:TENANT_${tenants - 11}`)).toBe(true); // retired, kept
    expect(redaction.mask(JSON.stringify({ msg: `value-of-env:TENANT_${tenants - 1}` }))).toBe(
      JSON.stringify({ msg: '[REDACTED]' }),
    );
    const told = logs.lines.filter((l) => String(l.msg).includes('no longer masked'));
    expect(told).toHaveLength(1);
  });
});

/** A registry that counts, per value, how many holds are not yet released. */
class CountingRegistry extends RedactionRegistry {
  readonly unreleased = new Map<string, number>();
  override hold(value: string): void {
    super.hold(value);
    this.unreleased.set(value, (this.unreleased.get(value) ?? 0) + 1);
  }
  override release(value: string): number {
    this.unreleased.set(value, (this.unreleased.get(value) ?? 0) - 1);
    return super.release(value);
  }
}

describe('SecretCache: JSON secrets', () => {
  /** Fixed width: no value is the start of another. */
  const fieldValue = (i: number) => `field-value-${String(i).padStart(4, '0')}`;
  const masked = (redaction: RedactionRegistry, text: string) =>
    JSON.parse(redaction.mask(JSON.stringify({ msg: text }))).msg as string;

  it('masks each string field of a rotated-out value among the retired ones, and the new value’s', async () => {
    const script = scriptedProvider();
    const { cache, redaction } = cacheWith(script.provider, { ttlMs: 60_000 });
    script.answer(
      JSON.stringify({ username: 'app', password: 'first-Pa55word', api: { token: 'shared-token-1' } }),
    );
    await cache.get(ref);
    script.answer(
      JSON.stringify({ username: 'app', password: 'second-Pa55word', api: { token: 'shared-token-1' } }),
    );
    await cache.refresh(ref);

    expect(masked(redaction, 'pw first-Pa55word, then second-Pa55word, token shared-token-1')).toBe(
      'pw [REDACTED], then [REDACTED], token [REDACTED]',
    );
    // Two whole texts, two passwords, one token: nothing registered twice.
    expect(redaction.size).toBe(5);
  });

  it('releases every field it held, exactly once per hold, when a value rotates out or its entry is evicted', async () => {
    const script = scriptedProvider();
    const redaction = new CountingRegistry();
    const cache = new SecretCache({ ...settings, maxEntries: 1 }, () => script.provider, redaction);
    const other = parseSecretReference('env:OTHER');
    // The same field under two references, and twice within one value: held once per entry.
    script.answer(JSON.stringify({ a: 'field-Pa55word', b: 'field-Pa55word', c: 'only-in-first' }));
    await cache.get(ref);
    script.answer(JSON.stringify({ a: 'field-Pa55word', c: 'rotated-field' }));
    await cache.refresh(ref);
    expect(redaction.unreleased.get('field-Pa55word')).toBe(1);
    expect(redaction.unreleased.get('only-in-first')).toBe(0);
    script.answer('other-value-1');
    await cache.get(other); // evicts env:TOKEN
    expect(cache.size).toBe(1);
    const unreleased = [...redaction.unreleased].filter(([, count]) => count !== 0);
    expect(unreleased).toEqual([['other-value-1', 1]]);
    expect(['field-Pa55word', 'only-in-first', 'rotated-field'].every((v) => redaction.has(v))).toBe(true);
  });

  it(`holds ${maxMaskedJsonFields} fields of one value at most, and says so once`, async () => {
    const script = scriptedProvider();
    const { cache, redaction, logs } = cacheWith(script.provider, { ttlMs: 60_000 });
    const document = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, fieldValue(i)]));
    script.answer(JSON.stringify(document), 'v1');
    await cache.get(ref);
    script.answer(JSON.stringify({ ...document, extra: 'one-more-field' }), 'v2');
    await cache.refresh(ref);

    // The two whole texts, and the first fields of each: the same ones, held once.
    expect(redaction.size).toBe(2 + maxMaskedJsonFields);
    expect(masked(redaction, fieldValue(maxMaskedJsonFields - 1))).toBe('[REDACTED]');
    expect(masked(redaction, fieldValue(maxMaskedJsonFields))).toBe(fieldValue(maxMaskedJsonFields));
    const told = logs.lines.filter((l) =>
      String(l.msg).includes(`more than ${maxMaskedJsonFields} string fields`),
    );
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({
      level: 'warn',
      reference: 'env:TOKEN',
      beyondBound: 5_000 - maxMaskedJsonFields,
    });
    expect(JSON.stringify(logs.lines)).not.toContain('field-value-');
  });
});

/**
 * A provider with `fetchMany`: records each batch's references (and each single fetch), and answers
 * each reference with `answer(reference)`, an error to fail that one alone; `failBatch` fails a whole
 * call when it returns an error for the references asked (as GetParameters does when one name of
 * the batch is denied).
 */
function batchingProvider(
  answer: (reference: SecretReference) => FetchedSecret | Error,
  failBatch: (references: readonly SecretReference[]) => Error | undefined = () => undefined,
) {
  const batches: string[][] = [];
  const singles: string[] = [];
  const provider: SecretProvider = {
    async fetch(reference) {
      singles.push(reference.raw);
      const result = failBatch([reference]) ?? answer(reference);
      if (result instanceof Error) throw result;
      return result;
    },
    async fetchMany(references) {
      batches.push(references.map((r) => r.raw));
      const failure = failBatch(references);
      if (failure !== undefined) throw failure;
      return new Map(references.map((r) => [r, answer(r)]));
    },
  };
  return { provider, batches, singles };
}

const throttling = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

describe('SecretCache: refreshes that fall due together', () => {
  // A clock the test moves, and no jitter (Math.random() = 0): each value expires exactly one TTL
  // after it was fetched, and a failed refresh backs off exactly 0.8 × its backoff.
  let now = 0;
  const settle = () => delay(5);
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function setUp(
    answer: (reference: SecretReference) => FetchedSecret | Error,
    failBatch?: (references: readonly SecretReference[]) => Error | undefined,
  ) {
    now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const env = batchingProvider(answer, failBatch);
    const file = batchingProvider(answer);
    const logs = captureLogs();
    const cache = new SecretCache(
      settings, // TTL 200 ms: a value joins a batch from 160 ms after it was fetched
      (reference) => (reference.kind === 'file' ? file.provider : env.provider),
      new RedactionRegistry(),
      createLogger({ service: 't', destination: logs }),
    );
    /** Stores `references` now (one jitter draw, 0) and reads each once, as an app would. */
    const load = (references: readonly SecretReference[], options: { ttlMs?: number } = {}) => {
      for (const reference of references)
        cache.store(reference, answer(reference) as FetchedSecret, options, 0);
      for (const reference of references) cache.peek(reference);
    };
    return { cache, env, file, logs, load };
  }

  const [a, b, c, d, e, f, g, h] = 'ABCDEFGH'.split('').map((n) => parseSecretReference(`env:${n}`)) as [
    SecretReference,
    SecretReference,
    SecretReference,
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

  it('refreshes, in one fetchMany, the value read and the values of its provider read or declared that are due or nearly', async () => {
    version = 'v1';
    const { cache, env, file, load } = setUp((r) => answer(r));
    load([a, b, c, other]); // due at 200
    cache.store(f, answer(f), {}, 0); // due at 200, never read
    cache.store(g, answer(g), { pinned: true }, 0); // due at 200, never read, but declared
    load([d], { ttlMs: 1_000 }); // due at 1,000
    now = 100;
    load([e]); // due at 300; joins a batch from 260 (0.8 of its TTL after its fetch)
    now = 150;
    cache.store(h, answer(h), {}, 1); // jitter 1: due at 310, yet at 270 fetched only 120 ms before
    cache.peek(h);
    version = 'v2';

    now = 270; // a, b, c, f, g and other due; e fresh but 170 ms old; d and h fresh and younger
    expect((await cache.get(a)).version).toBe('v2');
    await settle();
    expect(env.batches).toEqual([['env:A', 'env:B', 'env:C', 'env:G', 'env:E']]);
    expect(env.singles).toEqual([]);
    expect(file.batches).toEqual([]); // another provider's value waits for its own read
    expect([b, c, e, g].map((r) => cache.info(r))).toEqual(
      Array(4).fill({ version: 'v2', stale: false, failures: 0 }),
    );
    expect(cache.info(d)?.version).toBe('v1');
    expect(cache.info(f)?.version).toBe('v1'); // neither declared (pinned) nor read: left alone
    expect(cache.info(h)?.version).toBe('v1'); // never fetched again before 0.8 of its TTL

    // Read in any order, the refreshed values cost no call more until they fall due again.
    for (const reference of [c, b, e, a, d]) cache.peek(reference);
    await settle();
    expect(env.batches).toHaveLength(1);
    expect(env.singles).toEqual([]);
  });

  it('takes along only values read since their last fetch (or declared)', async () => {
    version = 'v1';
    const { cache, env, load } = setUp((r) => answer(r));
    load([a, b]);
    now = 210;
    cache.peek(a); // both refreshed together; neither read since
    await settle();
    expect(env.batches).toEqual([['env:A', 'env:B']]);
    now = 220;
    cache.peek(a); // a read again; b not
    now = 420; // both due
    cache.peek(a);
    await settle();
    expect(env.batches).toHaveLength(1);
    expect(env.singles).toEqual(['env:A']);
  });

  it('keeps each member’s outcome on its own entry, and refreshes one that failed for its own reason alone', async () => {
    version = 'v1';
    const notFound = new SecretNotFoundError('env:C: ParameterNotFound', { reference: 'env:C' });
    const { cache, env, logs, load } = setUp((r) => (r === c && version === 'v2' ? notFound : answer(r)));
    load([a, b, c]);
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

    // c backs off until 210 + 0.8 × 100 ms; a, due again, leaves it out.
    now = 240;
    cache.peek(c);
    cache.invalidate(a);
    cache.peek(a);
    await settle();
    expect(env.batches).toHaveLength(1);
    expect(env.singles).toEqual(['env:A']);
    cache.peek(b);
    // Past its backoff c is asked again alone, though b is due (and read) then too.
    now = 300;
    cache.invalidate(b);
    cache.peek(c);
    await settle();
    expect(env.batches).toHaveLength(1);
    expect(env.singles).toEqual(['env:A', 'env:C']);
    expect(cache.info(c)?.failures).toBe(2);
    expect(cache.info(b)?.stale).toBe(true);
  });

  it('does not let one value whose call fails as a whole hold back the others', async () => {
    // Like an IAM deny on one parameter: a GetParameters call that names it fails entirely.
    version = 'v1';
    const denied = new SecretAccessDeniedError('env:B: AccessDeniedException', { reference: 'env:B' });
    const { cache, env, load } = setUp(
      (r) => answer(r),
      (references) => (version === 'v2' && references.includes(b) ? denied : undefined),
    );
    load([a, b, c]);
    version = 'v2';
    now = 210;
    cache.peek(a);
    await settle();
    expect([a, b, c].map((r) => cache.info(r)?.failures)).toEqual([1, 1, 1]);

    now = 300; // past the backoff: each is asked again alone; a and c recover, b alone fails
    for (const reference of [a, b, c]) cache.peek(reference);
    await settle();
    expect(env.batches).toHaveLength(1);
    expect(env.singles).toEqual(['env:A', 'env:B', 'env:C']);
    expect([a, b, c].map((r) => cache.info(r)?.version)).toEqual(['v2', 'v1', 'v2']);

    // From then on a and c are refreshed together again, without b (read too, still failing).
    now = 400;
    for (const reference of [a, b, c]) cache.peek(reference);
    now = 600;
    cache.peek(a);
    await settle();
    expect(env.batches[1]).toEqual(['env:A', 'env:C']);
  });

  it('fails every member when the batch is throttled, takes them along while they back off, and retries them together', async () => {
    version = 'v1';
    let throttled = true;
    const { cache, env, load } = setUp(
      (r) => answer(r),
      () => (throttled ? throttling() : undefined),
    );
    load([a, b, c]);
    now = 210;
    cache.peek(b);
    await settle();
    expect([a, b, c].map((r) => cache.info(r)?.failures)).toEqual([1, 1, 1]);
    expect([a, b, c].map((r) => cache.peek(r)?.version)).toEqual(['v1', 'v1', 'v1']);

    throttled = false;
    version = 'v2';
    now = 250; // b and c back off until 290; a, invalidated, goes now and takes them along
    cache.invalidate(a);
    expect((await cache.get(a)).version).toBe('v2');
    await settle();
    expect(env.batches).toEqual([
      ['env:B', 'env:A', 'env:C'],
      ['env:A', 'env:B', 'env:C'],
    ]);
    expect(env.singles).toEqual([]);
    expect([b, c].map((r) => cache.info(r))).toEqual(
      Array(2).fill({ version: 'v2', stale: false, failures: 0 }),
    );
  });

  it('gives the values of a batch one draw of jitter: they fall due together again', async () => {
    version = 'v1';
    const { cache, load } = setUp((r) => answer(r));
    load([a, b, c]); // due at 200
    vi.mocked(Math.random).mockReturnValueOnce(0.5); // the batch's draw
    now = 210;
    cache.peek(a);
    await settle();
    // One draw: all three due at 210 + 200 × (1 − 0.5 × 0.2) = 390. A draw each (0.5, then 0) would
    // leave b and c fresh until 410.
    now = 389;
    expect([a, b, c].map((r) => cache.info(r)?.stale)).toEqual([false, false, false]);
    now = 391;
    expect([a, b, c].map((r) => cache.info(r)?.stale)).toEqual([true, true, true]);
  });

  it('gives the values a store loads at start-up one draw of jitter', async () => {
    setUp((r) => answer(r));
    const draws = [0.5, 0, 0.9];
    let drawn = 0;
    vi.mocked(Math.random).mockImplementation(() => draws[drawn++ % draws.length]!);
    const store = createSecretStore({
      env: { A: 'alpha-value', B: 'bravo-value', C: 'charlie-value' },
      secrets: { A: 'env:A', B: 'env:B', C: 'env:C' },
      options: { ttlMs: 1_000 },
    });
    await store.load();
    // Whichever draw the load took, the three fall due at the same moment, between 0.8 and 1 TTL.
    const staleAt = (t: number) => {
      now = t;
      return ['A', 'B', 'C'].map((name) => store.info(name)?.stale);
    };
    expect(staleAt(799)).toEqual([false, false, false]);
    for (let t = 800; t <= 1_000; t++) expect(new Set(staleAt(t)).size, `at ${t} ms`).toBe(1);
    expect(staleAt(1_000)).toEqual([true, true, true]);
  });

  it('bounds a fetch or a batch that ignores its abort signal, and asks again at the next refresh', async () => {
    // Real time for the 300 ms bound; the cache's clock is the test's.
    version = 'v1';
    setUp((r) => answer(r));
    const calls: string[] = [];
    const deaf: SecretProvider = {
      fetch: (reference) => {
        calls.push(reference.raw);
        return new Promise<FetchedSecret>(() => {});
      },
      fetchMany: (references) => {
        calls.push(references.map((r) => r.raw).join('+'));
        return new Promise(() => {});
      },
    };
    const deafCache = new SecretCache(settings, () => deaf, new RedactionRegistry());
    for (const reference of [a, b]) {
      deafCache.store(reference, answer(reference), {}, 0);
      deafCache.peek(reference);
    }
    now = 210;
    deafCache.peek(a); // a batch of a and b that never answers
    await expect(deafCache.get(c)).rejects.toBeInstanceOf(SecretTimeoutError); // a first fetch, alone
    await delay(150); // the batch's bound (300 ms + 100 ms of grace) has passed too
    expect([a, b, c].map((r) => deafCache.info(r)?.failures)).toEqual([1, 1, 1]);
    // A timeout is the call's failure, not the value's: past the backoff they go together again.
    now = 300;
    deafCache.peek(a);
    expect(calls).toEqual(['env:A+env:B', 'env:C', 'env:A+env:B']);
  });
});

describe('SecretCache: values one call answers (callKey)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  // env:<SECRET>_<KEY>: keys of one "secret" share a call key; the provider counts its calls per key.
  const keyOf = (reference: SecretReference) =>
    reference.kind === 'env' ? reference.name.split('_')[0] : undefined;
  function setUp() {
    let now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    let version = 'v1';
    const fetched: string[] = [];
    const provider: SecretProvider = {
      callKey: keyOf,
      fetch: async (reference) => {
        fetched.push(reference.raw);
        return { value: `${reference.raw}-${version}-value`, sensitive: true, version };
      },
    };
    const cache = new SecretCache(settings, () => provider, new RedactionRegistry());
    return {
      cache,
      fetched,
      at: (ms: number) => {
        now = ms;
      },
      rotate: (next: string) => {
        version = next;
      },
    };
  }
  const [user, password, port, other] = ['DB_USER', 'DB_PASSWORD', 'DB_PORT', 'API_KEY'].map((n) =>
    parseSecretReference(`env:${n}`),
  ) as [SecretReference, SecretReference, SecretReference, SecretReference];

  it('fetches, with a value due or refreshed, every cached value of the same call, whatever its age, in the same turn', async () => {
    const { cache, fetched, at, rotate } = setUp();
    await cache.get(user, { ttlMs: 60_000 }); // not due for a minute, never read again
    await cache.get(other);
    at(150);
    await cache.get(port); // a first fetch of port brings user along; other keeps its own call
    cache.invalidate(port);
    await cache.get(port); // and so does a refresh
    expect(fetched).toEqual([
      'env:DB_USER',
      'env:API_KEY',
      ...['env:DB_PORT', 'env:DB_USER'],
      ...['env:DB_PORT', 'env:DB_USER'],
    ]);
    fetched.length = 0;
    rotate('v2');
    at(250); // port and other due (TTL 200); user is not
    await cache.get(password); // a first fetch again
    expect(fetched).toEqual(['env:DB_PASSWORD', 'env:DB_USER', 'env:DB_PORT']);
    await delay(1);
    expect([user, password, port].map((r) => cache.info(r)?.version)).toEqual(['v2', 'v2', 'v2']);
    expect(cache.info(other)?.version).toBe('v1'); // due, but of another call: its own read refreshes it
    fetched.length = 0;
    rotate('v3');
    await cache.refresh(user); // refresh() too
    expect(fetched).toEqual(['env:DB_USER', 'env:DB_PORT', 'env:DB_PASSWORD']);
  });

  it('refresh() waits for a fetch under way of another key of the same call, whose call it would join, and fetches after it', async () => {
    let version = 'v1';
    const sent: string[] = [];
    let release = () => {};
    const underWay = new Map<string, Promise<string>>();
    // As the Secrets Manager provider: keys of one secret share the call under way.
    const provider: SecretProvider = {
      callKey: keyOf,
      fetch: async (reference) => {
        const key = keyOf(reference)!;
        let call = underWay.get(key);
        if (call === undefined) {
          sent.push(`${reference.raw}@${version}`);
          const answer = version; // what the store holds when the call is sent
          call = new Promise<string>((resolve) => (release = () => resolve(answer)));
          underWay.set(key, call);
          void call.then(() => underWay.delete(key));
          if (reference !== port) release();
        }
        const got = await call;
        return { value: `${reference.raw}-${got}-value`, sensitive: true, version: got };
      },
    };
    const cache = new SecretCache({ ...settings, ttlMs: 60_000 }, () => provider, new RedactionRegistry());
    const first = cache.get(port); // sent now, answered late
    version = 'v2'; // the rotation
    const refreshed = cache.refresh(password);
    await delay(5);
    expect(sent).toEqual(['env:DB_PORT@v1']); // nothing new while port's call is under way
    release();
    expect((await first).version).toBe('v1');
    expect((await refreshed).version).toBe('v2');
    expect(sent).toEqual(['env:DB_PORT@v1', 'env:DB_PASSWORD@v2']);
  });

  it('fetches a value of a call key the cache could not keep (every other entry pinned)', async () => {
    const { fetched } = setUp();
    const provider: SecretProvider = {
      callKey: keyOf,
      fetch: async (reference) => {
        fetched.push(reference.raw);
        return { value: `${reference.raw}-value`, sensitive: false };
      },
    };
    const cache = new SecretCache({ ...settings, maxEntries: 1 }, () => provider, new RedactionRegistry());
    await cache.get(other, { pinned: true });
    expect((await cache.get(user)).value).toBe('env:DB_USER-value');
    expect(cache.size).toBe(1);
  });

  it('takes a value of the same call into a fetchMany batch, however young', async () => {
    let now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const batches: string[][] = [];
    const provider: SecretProvider = {
      callKey: keyOf,
      fetch: async () => Promise.reject(new Error('fetch is not used here')),
      fetchMany: async (references) => {
        batches.push(references.map((r) => r.raw));
        return new Map(references.map((r) => [r, { value: `${r.raw}-value`, sensitive: false }]));
      },
    };
    const cache = new SecretCache(settings, () => provider, new RedactionRegistry());
    for (const reference of [user, other]) cache.store(reference, { value: 'v', sensitive: false }, {}, 0);
    now = 150;
    cache.store(password, { value: 'v', sensitive: false }, {}, 0); // fetched 150 ms after user, never read
    cache.peek(other); // read while fresh
    now = 210; // user and other due (TTL 200); password 60 ms old
    await cache.get(user);
    expect(batches).toEqual([['env:DB_USER', 'env:API_KEY', 'env:DB_PASSWORD']]);
  });
});
