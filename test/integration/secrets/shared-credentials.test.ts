// The kit's AWS clients of one region resolve their credentials once between them. Each client of the
// AWS SDK runs the default provider chain on its own: with no credentials on a laptop, every client
// probed the instance metadata endpoint apart. A region's clients have a provider of their own: the
// SDK's provider asks STS in its first client's region, with that client's request handler. Here the chain ends at a container credentials endpoint on
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

  it('resolve them once per region: a client of another region has a provider of its own', async () => {
    credentialRequests = 0;
    // The endpoint serves one region: it has no parameter of this ARN, and answers so once signed.
    const elsewhere = 'arn:aws:ssm:eu-west-1:123456789012:parameter/notes/token';
    const store = createSecretStore({
      secrets: { API_KEY: 'secretsmanager:prod/api-key', TOKEN: 'ssm:/notes/token' },
      options: { aws: { maxAttempts: 1 } },
    });
    try {
      await store.load();
      expect(credentialRequests).toBe(1);
      await expect(store.resolve(elsewhere)).rejects.toThrow(/not found|ParameterNotFound/i);
      // Secrets Manager and SSM in the default region share one; SSM in eu-west-1 asks for its own.
      expect(credentialRequests).toBe(2);
      await expect(store.resolve(elsewhere)).rejects.toThrow(/not found|ParameterNotFound/i);
      await expect(store.refresh('TOKEN')).resolves.toBe('secure-token-value');
      expect(credentialRequests).toBe(2);
    } finally {
      await store.close();
    }
  });
});
