import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { SecretProvider } from '../../../src/secrets/provider.js';
import { createSecretStore } from '../../../src/secrets/secret-store.js';

/**
 * A secret service whose answer is the value current when the call arrives, sent back after that
 * call's delay (the first call's, then the others'): a slow start-up call answers with what was
 * current before a rotation that happens while it is on its way.
 */
function rotatingSecret(delays: { first: number; later: number }) {
  let current = 'v1';
  const calls: string[] = [];
  const vault: SecretProvider = {
    fetch: async () => {
      const value = current;
      calls.push(value);
      await delay(calls.length === 1 ? delays.first : delays.later);
      return { value: `secret-${value}`, sensitive: true, version: value };
    },
  };
  return {
    vault,
    calls,
    rotate(to: string) {
      current = to;
    },
  };
}

/** A store with `TOKEN` declared, from `secret`'s `vault:` provider. */
function declaring(secret: ReturnType<typeof rotatingSecret>, ttlMs?: number) {
  return createSecretStore({
    secrets: { TOKEN: 'vault:kv/token' },
    options: { providers: { vault: secret.vault }, ...(ttlMs === undefined ? {} : { ttlMs }) },
  });
}

describe('the secret cache under races', () => {
  it('refresh() during the start-up load waits for it and sends a call of its own: the rotated value is kept', async () => {
    const secret = rotatingSecret({ first: 300, later: 10 });
    const store = declaring(secret);
    const loading = store.load();
    await delay(50);
    secret.rotate('v2'); // the load's call, already sent, answers v1
    const refreshed = await store.refresh('TOKEN');
    await loading;
    expect(refreshed).toBe('secret-v2');
    expect(store.get('TOKEN')).toBe('secret-v2'); // the load's older answer did not overwrite it
    expect(secret.calls).toEqual(['v1', 'v2']);
  });

  it('resolve() of a declared reference during the load joins it, not a second call', async () => {
    const secret = rotatingSecret({ first: 200, later: 10 });
    const store = declaring(secret);
    const loading = store.load();
    expect(await store.resolve('vault:kv/token')).toBe('secret-v1');
    await loading;
    expect(secret.calls).toEqual(['v1']);
  });

  it('invalidate() during a refresh leaves the value that refresh brings stale: the next read fetches again', async () => {
    const secret = rotatingSecret({ first: 10, later: 300 });
    const store = declaring(secret, 60_000);
    await store.load();
    const refreshing = store.refresh('TOKEN').catch(() => undefined); // sent now: answers v1
    await delay(50);
    secret.rotate('v2');
    store.invalidate('TOKEN');
    await refreshing;
    expect(store.info('TOKEN')).toMatchObject({ stale: true });
    expect(await store.resolve('vault:kv/token')).toBe('secret-v2');
    expect(secret.calls).toEqual(['v1', 'v1', 'v2']);
  });

  it('resolve() with a shorter TTL than the value was cached with gets a value no older than its own TTL', async () => {
    const secret = rotatingSecret({ first: 10, later: 10 });
    const store = createSecretStore({ options: { providers: { vault: secret.vault } } });
    expect(await store.resolve('vault:kv/token', { ttlMs: 60_000 })).toBe('secret-v1');
    secret.rotate('v2');
    await delay(250);
    expect(await store.resolve('vault:kv/token', { ttlMs: 200 })).toBe('secret-v2');
    expect(secret.calls).toEqual(['v1', 'v2']);
  });
});
