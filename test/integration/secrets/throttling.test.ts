import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSecretStore, SecretsStartupError } from '../../../src/index.js';
import { createLogger } from '../../../src/logging/logger.js';
import { type AwsEndpoint, applyEnv, awsClientEnv, startAwsEndpoint } from '../../support/aws-endpoint.js';
import { captureLogs } from '../../support/log-capture.js';

let endpoint: AwsEndpoint;
let restoreEnv: () => void;

beforeAll(async () => {
  endpoint = await startAwsEndpoint();
  restoreEnv = applyEnv(awsClientEnv(endpoint));
  for (let i = 1; i <= 20; i++) endpoint.putParameter(`/fleet/p${i}`, `value-${i}`, { type: 'String' });
  endpoint.putSecret('fleet/db', JSON.stringify({ username: 'app-a', password: 'pass-a-123456' }));
});

afterAll(async () => {
  restoreEnv?.();
  await endpoint?.close();
});

afterEach(() => {
  endpoint.setQuota('ssm', undefined);
  endpoint.clearFaults();
  endpoint.resetCalls();
});

/** 20 SSM references: two GetParameters calls at start. One SDK attempt per call, so that the kit's retries are what is measured. */
function instance(startupTimeoutMs: number) {
  const logs = captureLogs();
  const secrets = Object.fromEntries(
    Array.from({ length: 20 }, (_, i) => [`P${i + 1}`, `ssm:/fleet/p${i + 1}`]),
  );
  const store = createSecretStore({
    secrets,
    options: { startupTimeoutMs, aws: { maxAttempts: 1, requestTimeoutMs: 1_000, connectTimeoutMs: 1_000 } },
    logger: createLogger({ service: 'fleet', destination: logs }),
  });
  return { store, logs };
}

describe('start-up under a shared SSM request quota', () => {
  it('retries throttled calls with backoff until every instance has loaded, within the budget', async () => {
    // 8 instances, 16 calls at once against 8 a second with a burst of 4: most are throttled first.
    endpoint.setQuota('ssm', { ratePerSecond: 8, burst: 4 });
    const fleet = Array.from({ length: 8 }, () => instance(8_000));
    const started = performance.now();

    await Promise.all(fleet.map(({ store }) => store.load()));

    expect(performance.now() - started).toBeLessThan(8_000);
    for (const { store } of fleet) expect(store.get('P20')).toBe('value-20');
    expect(endpoint.throttled('GetParameters')).toBeGreaterThan(0);
    expect(endpoint.calls('GetParameters') - endpoint.throttled('GetParameters')).toBe(16);
    const retried = fleet.flatMap(({ logs }) => logs.find('loaded 20 of 20 secrets'));
    expect(retried).toHaveLength(8);
    expect(retried.some((line) => (line.throttledRetries as number) > 0)).toBe(true);
  });

  it('fails the start past the budget with an error that names the throttling and the fixes', async () => {
    endpoint.setQuota('ssm', { ratePerSecond: 0.001, burst: 0 });
    const { store } = instance(600);
    const started = performance.now();

    const error = await store.load().catch((e: unknown) => e);

    expect(performance.now() - started).toBeLessThan(1_500);
    expect(error).toBeInstanceOf(SecretsStartupError);
    const message = (error as Error).message;
    expect(message).toContain('ThrottlingException');
    expect(message).toContain('secretOptions.startupTimeoutMs');
    expect(message).toContain('higher throughput');
    expect(endpoint.calls('GetParameters')).toBeGreaterThan(2);
  });
});

describe('start-up through a short outage of the service', () => {
  it('retries server errors and reset connections within the budget instead of failing the start', async () => {
    // A second of 500s and reset connections: each instance starting then would be rolled back.
    endpoint.inject('GetParameters', { kind: 'error', error: 'InternalServerError', times: 3 });
    endpoint.inject('GetParameters', { kind: 'reset', times: 2 });
    const { store, logs } = instance(8_000);

    await store.load();

    expect(store.get('P20')).toBe('value-20');
    expect(endpoint.calls('GetParameters')).toBeGreaterThan(2);
    const loaded = logs.find('loaded 20 of 20 secrets')[0]!;
    expect(loaded.transientRetries as number).toBeGreaterThan(0);
  });

  it('retries the keys of one secret together: one call per attempt, so they come from one version', async () => {
    endpoint.inject('GetSecretValue', { kind: 'error', error: 'ThrottlingException', times: 2 });
    const store = createSecretStore({
      secrets: {
        DB_USER: 'secretsmanager:fleet/db#username',
        DB_PASSWORD: 'secretsmanager:fleet/db#password',
      },
      options: { startupTimeoutMs: 8_000, aws: { maxAttempts: 1 } },
    });

    await store.load();

    expect([store.get('DB_USER'), store.get('DB_PASSWORD')]).toEqual(['app-a', 'pass-a-123456']);
    // Two throttled attempts and the one that answered, each a single call for both keys.
    expect(endpoint.calls('GetSecretValue')).toBe(3);
  });

  it('asks alone for the parameters of a batch that IAM denied as a whole: each gets its own answer', async () => {
    // A role that may not read one parameter of a batch: AWS denies the whole GetParameters call.
    endpoint.inject('GetParameters', { kind: 'error', error: 'AccessDeniedException', times: 1 });
    const store = createSecretStore({
      secrets: { P1: 'ssm:/fleet/p1', P2: 'ssm:/fleet/p2', P3: { ref: 'ssm:/fleet/p3', optional: true } },
      options: { startupTimeoutMs: 8_000, aws: { maxAttempts: 1 } },
    });

    await store.load();

    expect(['P1', 'P2', 'P3'].map((name) => store.get(name))).toEqual(['value-1', 'value-2', 'value-3']);
    expect([endpoint.calls('GetParameters'), endpoint.calls('GetParameter')]).toEqual([1, 3]);
  });
});
