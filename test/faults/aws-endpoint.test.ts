// The AWS endpoint failing, through the real SDK v3 clients the kit builds, for what
// test/integration/secrets/aws.test.ts does not already cover there: an endpoint that is down
// (connection refused) or throttles every call at start-up, and an endpoint that is down, hangs or
// throttles while declared secrets refresh — served stale, logged once, picked up when it is back.
// Covered there: a hanging endpoint at start-up (the budget), one throttled call (retried), a failing
// refresh() (the cached value kept).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAppRunner, createSecretStore, SecretsStartupError } from '../../src/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { type AwsEndpoint, applyEnv, awsClientEnv, startAwsEndpoint } from '../support/aws-endpoint.js';
import { captureLogs } from '../support/log-capture.js';
import { openTcpGate, type TcpGate } from './tcp-gate.js';

let endpoint: AwsEndpoint;
let gate: TcpGate;
let restoreEnv: () => void;

beforeAll(async () => {
  endpoint = await startAwsEndpoint();
  // The clients reach the endpoint through a gate that can refuse connections, as a network would.
  gate = await openTcpGate(endpoint.port);
  restoreEnv = applyEnv(awsClientEnv({ url: gate.url, region: endpoint.region }));
});

afterEach(async () => {
  endpoint.clearFaults();
  endpoint.resetCalls();
  await gate.up();
});

afterAll(async () => {
  restoreEnv?.();
  await gate?.close();
  await endpoint?.close();
});

const fast = {
  aws: { requestTimeoutMs: 300, connectTimeoutMs: 300, maxAttempts: 2 },
  startupTimeoutMs: 2_000,
};
const declared = {
  DB_PASSWORD: 'secretsmanager:faults/db#password',
  API_TOKEN: 'ssm:/faults/api-token',
};

async function timed<T>(work: Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work;
  return { result, ms: performance.now() - started };
}

describe('at start-up', () => {
  it('an endpoint that refuses connections fails the start within the budget, naming each secret and the cause', async () => {
    await gate.down();
    const store = createSecretStore({ secrets: declared, options: fast });

    const { result: error, ms } = await timed(
      store.load().then(
        () => undefined,
        (e: unknown) => e,
      ),
    );

    expect(error).toBeInstanceOf(SecretsStartupError);
    const failure = error as SecretsStartupError;
    expect(failure.message).toContain('2 of 2 secrets could not be loaded');
    expect(failure.message).toMatch(/DB_PASSWORD \(secretsmanager:faults\/db#password\): .*ECONNREFUSED/);
    expect(failure.message).toMatch(/API_TOKEN \(ssm:\/faults\/api-token\): .*ECONNREFUSED/);
    expect(ms).toBeLessThan(fast.startupTimeoutMs);
    expect(endpoint.calls()).toBe(0);
  });

  it('bootstrapAppRunner stops before it listens when the endpoint refuses connections', async () => {
    await gate.down();
    const logs = captureLogs();
    let listened = false;

    const outcome = await bootstrapAppRunner({
      app: (_req, res) => res.end(),
      port: 0,
      env: {},
      logging: { destination: logs },
      shutdown: { signals: [], exit: false, handleProcessErrors: false },
      secrets: declared,
      secretOptions: fast,
    }).then(
      async (runtime) => {
        listened = true;
        await runtime.shutdown('unexpected');
      },
      (e: unknown) => e,
    );

    expect(listened).toBe(false);
    expect(outcome).toBeInstanceOf(SecretsStartupError);
    expect(logs.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('listening on port'))).toBe(
      false,
    );
  });

  it('an endpoint that throttles every call: retried with backoff within the budget, then the start fails naming it', async () => {
    endpoint.inject('*', { kind: 'error', error: 'ThrottlingException', times: Number.POSITIVE_INFINITY });
    const store = createSecretStore({ secrets: declared, options: fast });

    const { result: error, ms } = await timed(
      store.load().then(
        () => undefined,
        (e: unknown) => e,
      ),
    );

    expect(error).toBeInstanceOf(SecretsStartupError);
    expect((error as SecretsStartupError).message).toMatch(/DB_PASSWORD \(.*ThrottlingException/);
    expect((error as SecretsStartupError).message).toMatch(/API_TOKEN \(.*ThrottlingException/);
    expect(ms).toBeLessThan(fast.startupTimeoutMs + 300);
    // Full-jitter exponential backoff from 250 ms: a handful of attempts in 2 s, never a retry storm.
    expect(endpoint.calls()).toBeGreaterThan(2 * fast.aws.maxAttempts);
    expect(endpoint.calls()).toBeLessThanOrEqual(2 * fast.aws.maxAttempts * 8);
  });
});

/**
 * Loads two secrets (one per service, named after `id`) with a TTL of 1 s (so the backoff between
 * failed refreshes is at most 1 s), rotates both values, starts `fault`, marks both stale, and reads
 * both through two failed refresh attempts each: every read must return the first value at once.
 * Then ends the fault and waits for the new values.
 */
async function servesStaleThrough(id: string, start: () => Promise<void>, end: () => Promise<void>) {
  endpoint.putSecret(`faults/db-${id}`, JSON.stringify({ password: 'db-password-1' }));
  endpoint.putParameter(`/faults/api-token-${id}`, 'api-token-1', { type: 'SecureString' });
  const logs = captureLogs();
  const store = createSecretStore({
    secrets: {
      DB_PASSWORD: { ref: `secretsmanager:faults/db-${id}#password`, ttlMs: 1_000 },
      API_TOKEN: { ref: `ssm:/faults/api-token-${id}`, ttlMs: 1_000 },
    },
    options: fast,
    logger: createLogger({ service: 'faults', destination: logs }),
  });
  await store.load();
  endpoint.rotateSecret(`faults/db-${id}`, JSON.stringify({ password: 'db-password-2' }));
  endpoint.putParameter(`/faults/api-token-${id}`, 'api-token-2', { type: 'SecureString' });
  await start();
  // Stale now rather than after the TTL: the next read returns the value and refreshes it.
  store.invalidate('DB_PASSWORD');
  store.invalidate('API_TOKEN');

  const readsDuringFault: string[] = [];
  const deadline = performance.now() + 6_000;
  while (
    performance.now() < deadline &&
    ((store.info('DB_PASSWORD')?.failures ?? 0) < 2 || (store.info('API_TOKEN')?.failures ?? 0) < 2)
  ) {
    readsDuringFault.push(`${store.get('DB_PASSWORD')} ${store.get('API_TOKEN')}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const failuresDuringFault = [store.info('DB_PASSWORD')?.failures, store.info('API_TOKEN')?.failures];
  const warnings = logs.lines.filter((l) => l.level === 'warn').map((l) => String(l.msg));

  await end();
  const recovered = performance.now() + 5_000;
  let latest = '';
  while (performance.now() < recovered) {
    latest = `${store.get('DB_PASSWORD')} ${store.get('API_TOKEN')}`;
    if (latest === 'db-password-2 api-token-2') break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { readsDuringFault, failuresDuringFault, warnings, latest, logs };
}

describe('while declared secrets refresh', () => {
  it('an endpoint that goes down: the cached values are served, one warning per secret, the new values once it is back', async () => {
    const outcome = await servesStaleThrough(
      'down',
      () => gate.down(),
      () => gate.up(),
    );

    expect(outcome.failuresDuringFault).toEqual([2, 2]);
    expect(new Set(outcome.readsDuringFault)).toEqual(new Set(['db-password-1 api-token-1']));
    expect(outcome.warnings).toHaveLength(2);
    expect(outcome.warnings.every((m) => m.includes('serving the cached value'))).toBe(true);
    expect(outcome.latest).toBe('db-password-2 api-token-2');
    expect(outcome.logs.lines.some((l) => String(l.msg).includes('refreshed again after'))).toBe(true);
  });

  it('an endpoint that hangs (Secrets Manager) or throttles (SSM): the same, each refresh bounded', async () => {
    const outcome = await servesStaleThrough(
      'hang-throttle',
      async () => {
        endpoint.inject('GetSecretValue', { kind: 'hang', times: Number.POSITIVE_INFINITY });
        for (const operation of ['GetParameter', 'GetParameters'] as const) {
          endpoint.inject(operation, {
            kind: 'error',
            error: 'ThrottlingException',
            times: Number.POSITIVE_INFINITY,
          });
        }
      },
      async () => endpoint.clearFaults(),
    );

    expect(outcome.failuresDuringFault).toEqual([2, 2]);
    expect(new Set(outcome.readsDuringFault)).toEqual(new Set(['db-password-1 api-token-1']));
    expect(outcome.warnings).toHaveLength(2);
    expect(outcome.latest).toBe('db-password-2 api-token-2');
  });
});
