// No credentials anywhere the AWS SDK looks: the error names the fix on each platform the kit runs on,
// not App Runner's alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretStore, type SecretsStartupError } from '../../../src/index.js';
import { type AwsEndpoint, applyEnv, startAwsEndpoint } from '../../support/aws-endpoint.js';

let endpoint: AwsEndpoint;
let restoreEnv: () => void;

beforeAll(async () => {
  endpoint = await startAwsEndpoint();
  // Every source of the SDK's default chain emptied; the instance metadata service turned off, so no
  // provider leaves 127.0.0.1.
  restoreEnv = applyEnv({
    AWS_ENDPOINT_URL: endpoint.url,
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
    AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
    AWS_ROLE_ARN: undefined,
  });
});

afterAll(async () => {
  restoreEnv?.();
  await endpoint?.close();
});

describe('a secret read with no AWS credentials', () => {
  it('names the role to give on App Runner, ECS and EKS, and reaches no endpoint', async () => {
    const store = createSecretStore({
      secrets: { KEY: 'secretsmanager:prod/api-key' },
      options: { aws: { maxAttempts: 1 }, startupTimeoutMs: 3_000 },
    });

    const error = (await store.load().catch((caught: unknown) => caught)) as SecretsStartupError;
    await store.close();

    expect(error.failures[0]).toMatchObject({ awsCode: 'CredentialsProviderError' });
    expect(error.message).toContain('no AWS credentials');
    expect(error.message).toContain('on App Runner an instance role');
    expect(error.message).toContain('on ECS a task role (taskRoleArn)');
    expect(error.message).toContain("on EKS a role for the pod's service account (IRSA or EKS Pod Identity)");
    expect(endpoint.requests()).toEqual([]);
  });
});
