// The kit's AWS clients resolve their credentials once between them. Each client of the AWS SDK runs
// the default provider chain on its own: with no credentials on a laptop, every client probed the
// instance metadata endpoint apart. Here the chain ends at a container credentials endpoint on
// 127.0.0.1 (as ECS gives one), which counts how often it is asked; the instance metadata service
// is off, so no provider leaves 127.0.0.1.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretStore } from '../../../src/index.js';
import {
  type AwsEndpoint,
  applyEnv,
  awsClientEnv,
  noAwsCredentials,
  startAwsEndpoint,
} from '../../support/aws-endpoint.js';

let endpoint: AwsEndpoint;
let credentialsServer: Server;
let credentialRequests = 0;
let restoreEnv: () => void;

beforeAll(async () => {
  endpoint = await startAwsEndpoint();
  endpoint.putSecret('prod/api-key', 'api-key-value-123');
  endpoint.putParameter('/notes/token', 'secure-token-value', { type: 'SecureString' });
  credentialsServer = createServer((_req, res) => {
    credentialRequests++;
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        AccessKeyId: 'test',
        SecretAccessKey: 'test',
        Token: 'test-session',
        Expiration: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve) => credentialsServer.listen(0, '127.0.0.1', resolve));
  const { port } = credentialsServer.address() as AddressInfo;
  restoreEnv = applyEnv({
    ...awsClientEnv(endpoint),
    // No static credentials, profile or token file: the chain reaches the container endpoint.
    ...noAwsCredentials,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${port}/credentials`,
  });
});

afterAll(async () => {
  restoreEnv?.();
  await endpoint?.close();
  await new Promise((resolve) => credentialsServer?.close(resolve));
});

describe("the secret store's AWS clients", () => {
  it('resolve the credentials once for Secrets Manager and SSM, at start-up and later', async () => {
    const store = createSecretStore({
      secrets: { API_KEY: 'secretsmanager:prod/api-key', TOKEN: 'ssm:/notes/token' },
      options: { aws: { maxAttempts: 1 } },
    });
    try {
      await store.load();
      expect(store.get('API_KEY')).toBe('api-key-value-123');
      expect(store.get('TOKEN')).toBe('secure-token-value');
      expect(credentialRequests).toBe(1);

      await expect(store.refresh('TOKEN')).resolves.toBe('secure-token-value');
      await expect(store.refresh('API_KEY')).resolves.toBe('api-key-value-123');
      expect(credentialRequests).toBe(1);
    } finally {
      await store.close();
    }
  });
});
