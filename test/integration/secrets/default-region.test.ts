// AWS_DEFAULT_REGION alone: the kit reads it (as the AWS CLI does), the AWS SDK for JavaScript v3 does
// not. The clients the kit builds get the kit's region, so that a reference without an ARN still has one.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSecretStore } from '../../../src/index.js';
import { type AwsEndpoint, applyEnv, awsClientEnv, startAwsEndpoint } from '../../support/aws-endpoint.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

let endpoint: AwsEndpoint;
let restoreEnv: () => void;

beforeAll(async () => {
  endpoint = await startAwsEndpoint({ region: 'eu-west-1' });
  // The SDK's view: endpoint, credentials, and AWS_DEFAULT_REGION with AWS_REGION unset.
  restoreEnv = applyEnv({
    ...awsClientEnv(endpoint),
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: 'eu-west-1',
  });
  endpoint.putSecret('prod/api-key', 'api-key-value-123');
  endpoint.putParameter('/notes/token', 'secure-token-value', { type: 'SecureString' });
});

afterAll(async () => {
  restoreEnv?.();
  await endpoint?.close();
});

afterEach(async () => {
  await stopRuntimes();
  endpoint.resetCalls();
});

const secrets = { API_KEY: 'secretsmanager:prod/api-key', TOKEN: 'ssm:/notes/token' };
const secretOptions = { aws: { requestTimeoutMs: 1_000, connectTimeoutMs: 500, maxAttempts: 1 } };
const regions = () => endpoint.requests().map((r) => `${r.credentials?.service}/${r.credentials?.region}`);

describe('with AWS_DEFAULT_REGION and no AWS_REGION', () => {
  it('the runtime loads its secrets in that region', async () => {
    const { runtime } = await startRuntime({
      secrets,
      secretOptions,
      env: { AWS_DEFAULT_REGION: 'eu-west-1' },
    });

    expect(runtime.secrets.get('API_KEY')).toBe('api-key-value-123');
    expect(runtime.secrets.get('TOKEN')).toBe('secure-token-value');
    expect(regions().sort()).toEqual(['secretsmanager/eu-west-1', 'ssm/eu-west-1']);
  });

  it('a store of createSecretStore reads it from process.env', async () => {
    const store = createSecretStore({ secrets, options: secretOptions });
    try {
      await store.load();

      expect(store.get('API_KEY')).toBe('api-key-value-123');
      expect(regions().sort()).toEqual(['secretsmanager/eu-west-1', 'ssm/eu-west-1']);
    } finally {
      await store.close();
    }
  });
});
