import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSecretStore, SecretsStartupError } from '../../../src/index.js';
import { type AwsEndpoint, applyEnv, awsClientEnv, startAwsEndpoint } from '../../support/aws-endpoint.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

// An endpoint of this file's own: the count of open connections is this file's clients' alone.
let endpoint: AwsEndpoint;
let restoreEnv: () => void;

beforeAll(async () => {
  endpoint = await startAwsEndpoint();
  restoreEnv = applyEnv(awsClientEnv(endpoint));
  endpoint.putSecret('prod/api-key', 'api-key-value-123');
  endpoint.putParameter('/notes/token', 'secure-token-value', { type: 'SecureString' });
});

afterAll(async () => {
  restoreEnv?.();
  await endpoint?.close();
});

afterEach(async () => {
  await stopRuntimes();
  endpoint.clearFaults();
  // Nothing a test left open counts in the next one.
  await expect.poll(() => endpoint.openConnections(), { timeout: 6_000 }).toBe(0);
});

const secretOptions = { aws: { requestTimeoutMs: 1_000, connectTimeoutMs: 500, maxAttempts: 1 } };
const secrets = { API_KEY: 'secretsmanager:prod/api-key', TOKEN: 'ssm:/notes/token' };

/**
 * Resolves once no client holds a connection to the endpoint, within 1 s: well inside the endpoint's
 * keep-alive timeout of 5 s, after which it would close a client's idle sockets itself.
 */
async function connectionsClosed(): Promise<void> {
  await expect.poll(() => endpoint.openConnections(), { timeout: 1_000 }).toBe(0);
}

describe('the AWS clients the kit builds for secrets', () => {
  it('are destroyed once the runtime stopped: their kept-alive sockets close', async () => {
    const { runtime } = await startRuntime({ secrets, secretOptions });
    expect(runtime.secrets.get('TOKEN')).toBe('secure-token-value');
    expect(endpoint.openConnections()).toBe(2); // one client per service, each kept alive

    await runtime.shutdown();

    await connectionsClosed();
  });

  it('are destroyed when the start fails on a secret', async () => {
    await expect(
      startRuntime({ secrets: { ...secrets, GONE: 'secretsmanager:prod/gone' }, secretOptions }),
    ).rejects.toBeInstanceOf(SecretsStartupError);

    await connectionsClosed();
  });

  it('finish a refresh under way at the shutdown, then are destroyed', async () => {
    const { runtime } = await startRuntime({ secrets, secretOptions });
    endpoint.inject('GetSecretValue', { kind: 'delay', ms: 200 });
    const refreshed = runtime.secrets.refresh('API_KEY');

    await runtime.shutdown();

    await expect(refreshed).resolves.toBe('api-key-value-123');
    await connectionsClosed();
  });

  it('of a store closed: a later fetch gets a client of its own, destroyed once it answered', async () => {
    const store = createSecretStore({ secrets, options: secretOptions });
    await store.load();
    await store.close();
    await connectionsClosed();

    await expect(store.resolve('ssm:/notes/token')).resolves.toBe('secure-token-value');
    await expect(store.refresh('API_KEY')).resolves.toBe('api-key-value-123');

    await connectionsClosed();
    await expect(store.close()).resolves.toBeUndefined();
  });
});

describe('an AWS client given in secretOptions.clients', () => {
  it('is left to its owner when the runtime stops', async () => {
    const ssm = new SSMClient({ region: endpoint.region, endpoint: endpoint.url });
    const destroy = vi.spyOn(ssm, 'destroy');
    try {
      const { runtime } = await startRuntime({
        secrets: { TOKEN: 'ssm:/notes/token' },
        secretOptions: { ...secretOptions, clients: { ssm } },
      });
      expect(runtime.secrets.get('TOKEN')).toBe('secure-token-value');

      await runtime.shutdown();

      expect(destroy).not.toHaveBeenCalled();
      expect(endpoint.openConnections()).toBe(1);
    } finally {
      ssm.destroy();
    }
  });
});
