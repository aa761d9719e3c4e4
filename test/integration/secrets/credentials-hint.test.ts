// No credentials anywhere the AWS SDK looks: the error names the fix on each platform the kit runs on,
// not App Runner's alone.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretStore, type SecretsStartupError } from '../../../src/index.js';
import {
  type AwsEndpoint,
  applyEnv,
  noAwsCredentials,
  startAwsEndpoint,
} from '../../support/aws-endpoint.js';

const uncaughtStart = new URL('../../fixtures/secrets-no-credentials.mjs', import.meta.url).pathname;

let endpoint: AwsEndpoint;
let restoreEnv: () => void;

beforeAll(async () => {
  endpoint = await startAwsEndpoint();
  // Every source of the SDK's default chain emptied; the instance metadata service turned off, so no
  // provider leaves 127.0.0.1.
  restoreEnv = applyEnv({ AWS_ENDPOINT_URL: endpoint.url, ...noAwsCredentials });
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

describe('a start that fails on them', () => {
  it('names the reason and its fix once for the secrets it stopped', async () => {
    const store = createSecretStore({
      secrets: { KEY: 'secretsmanager:prod/api-key', TOKEN: 'ssm:/notes/token' },
      options: { aws: { maxAttempts: 1 }, startupTimeoutMs: 3_000 },
    });

    const error = (await store.load().catch((caught: unknown) => caught)) as SecretsStartupError;
    await store.close();

    expect(error.failures).toHaveLength(2);
    expect(error.message).toMatch(
      /^2 of 2 secrets could not be loaded:\n {2}- KEY \(secretsmanager:prod\/api-key\) and TOKEN \(ssm:\/notes\/token\): no AWS credentials/,
    );
    expect(error.message.split('Give the app a role')).toHaveLength(2);
  });

  it('left uncaught, is one JSON line on stdout with the causes, and a short print on stderr', async () => {
    const env = Object.fromEntries(
      Object.entries({ ...noAwsCredentials, AWS_ENDPOINT_URL: endpoint.url }).filter(
        ([, v]) => v !== undefined,
      ),
    );
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve) =>
      execFile(
        process.execPath,
        [uncaughtStart],
        { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 10_000 },
        (error, out, err) =>
          resolve({
            code: error === null ? 0 : ((error as { code?: number }).code ?? null),
            stdout: out,
            stderr: err,
          }),
      ),
    );

    expect(code).toBe(1);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'error',
      err: {
        type: 'SecretsStartupError',
        code: 'ARK_SECRETS_STARTUP_FAILED',
        failures: [
          { reference: 'secretsmanager:prod/db#password', cause: { type: 'CredentialsProviderError' } },
          { reference: 'ssm:/prod/api-key', cause: { type: 'CredentialsProviderError' } },
        ],
      },
    });
    expect(lines[0]!.msg).toMatch(
      /^the start failed: 2 of 2 secrets could not be loaded:.*Give the app a role/s,
    );
    // Node's print: the message, the stack and the code; each cause with its stack was 96 lines.
    expect(stderr).toContain('SecretsStartupError: 2 of 2 secrets could not be loaded');
    expect(stderr.trim().split('\n').length).toBeLessThan(20);
    expect(stderr).not.toContain('CredentialsProviderError');
    expect(endpoint.requests()).toEqual([]);
  });
});
