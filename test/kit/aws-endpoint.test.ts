import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  InvalidNextToken,
  ParameterNotFound,
  ParameterVersionNotFound,
  paginateGetParametersByPath,
  SSMClient,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, applyEnv, awsClientEnv, startAwsEndpoint } from '../support/aws-endpoint.js';

let endpoint: AwsEndpoint;
let restoreEnv: () => void;

beforeAll(async () => {
  endpoint = await startAwsEndpoint();
  // The clients below get no endpoint or credentials option: they must find both in the env.
  restoreEnv = applyEnv({ ...awsClientEnv(endpoint), AWS_PROFILE: undefined, AWS_SESSION_TOKEN: undefined });
  endpoint.putSecret('prod/db', JSON.stringify({ username: 'app', password: 'hunter2' }), {
    description: 'database login',
  });
  endpoint.putSecret('prod/cert', Uint8Array.from([0, 1, 2, 250, 255]));
  endpoint.putParameter('/app/prod/db/host', 'db.internal');
  endpoint.putParameter('/app/prod/db/password', 's3cret', { type: 'SecureString' });
  endpoint.putParameter('/app/prod/flags', 'a,b,c', { type: 'StringList' });
  endpoint.putParameter('/app/prod/db/host', 'db2.internal');
  for (let i = 0; i < 23; i += 1) endpoint.putParameter(`/bulk/item-${String(i).padStart(2, '0')}`, `v${i}`);
  endpoint.putParameter('/bulk/nested/deeper', 'deep');
});

afterEach(() => {
  endpoint.clearFaults();
  endpoint.resetCalls();
});

afterAll(async () => {
  restoreEnv();
  await endpoint.close();
});

function secretsClient(
  options: ConstructorParameters<typeof SecretsManagerClient>[0] = {},
): SecretsManagerClient {
  return new SecretsManagerClient({ maxAttempts: 1, ...options });
}

function ssmClient(options: ConstructorParameters<typeof SSMClient>[0] = {}): SSMClient {
  return new SSMClient({ maxAttempts: 1, ...options });
}

describe('awsClientEnv', () => {
  it('points clients built without an endpoint option at the stand-in, signed with the test credentials', async () => {
    const sm = new SecretsManagerClient({});
    const ssm = new SSMClient({});
    await sm.send(new GetSecretValueCommand({ SecretId: 'prod/db' }));
    await ssm.send(new GetParameterCommand({ Name: '/app/prod/flags' }));
    expect(await sm.config.region()).toBe('us-east-1');
    const [secretRequest] = endpoint.requests('GetSecretValue');
    const [parameterRequest] = endpoint.requests('GetParameter');
    expect(secretRequest?.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(secretRequest?.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(secretRequest?.credentials).toMatchObject({
      accessKeyId: 'test',
      region: 'us-east-1',
      service: 'secretsmanager',
    });
    expect(parameterRequest?.headers['x-amz-target']).toBe('AmazonSSM.GetParameter');
    expect(parameterRequest?.credentials).toMatchObject({ accessKeyId: 'test', service: 'ssm' });
    sm.destroy();
    ssm.destroy();
  });

  it('the service-specific variables win over AWS_ENDPOINT_URL', async () => {
    const restore = applyEnv({ AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
    try {
      const sm = new SecretsManagerClient({ maxAttempts: 1 });
      const ssm = new SSMClient({ maxAttempts: 1 });
      await expect(sm.send(new DescribeSecretCommand({ SecretId: 'prod/db' }))).resolves.toMatchObject({
        Name: 'prod/db',
      });
      await expect(ssm.send(new GetParameterCommand({ Name: '/app/prod/flags' }))).resolves.toBeDefined();
      sm.destroy();
      ssm.destroy();
    } finally {
      restore();
    }
  });

  it('lists every variable the kit documents for local endpoints', () => {
    expect(awsClientEnv({ url: 'http://127.0.0.1:1' })).toEqual({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });
});

describe('Secrets Manager', () => {
  it('GetSecretValue answers SecretString by name and by ARN', async () => {
    const client = secretsClient();
    const byName = await client.send(new GetSecretValueCommand({ SecretId: 'prod/db' }));
    expect(JSON.parse(byName.SecretString ?? '')).toEqual({ username: 'app', password: 'hunter2' });
    expect(byName.VersionStages).toEqual(['AWSCURRENT']);
    expect(byName.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:123456789012:secret:prod\/db-[A-Za-z0-9]{6}$/,
    );
    expect(byName.CreatedDate).toBeInstanceOf(Date);
    const byArn = await client.send(new GetSecretValueCommand({ SecretId: byName.ARN }));
    const byPartialArn = await client.send(
      new GetSecretValueCommand({ SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db' }),
    );
    expect(byArn.VersionId).toBe(byName.VersionId);
    expect(byPartialArn.VersionId).toBe(byName.VersionId);
    client.destroy();
  });

  it('GetSecretValue answers SecretBinary as bytes (base64 on the wire)', async () => {
    const client = secretsClient();
    const output = await client.send(new GetSecretValueCommand({ SecretId: 'prod/cert' }));
    expect(output.SecretString).toBeUndefined();
    expect(Array.from(output.SecretBinary ?? [])).toEqual([0, 1, 2, 250, 255]);
    client.destroy();
  });

  it('maps unknown secrets, versions and stages to ResourceNotFoundException', async () => {
    const client = secretsClient();
    const missing = client.send(new GetSecretValueCommand({ SecretId: 'nope' }));
    await expect(missing).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(missing).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'prod/db', VersionStage: 'AWSPENDING' })),
    ).rejects.toThrow(/staging label: AWSPENDING/);
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'prod/db', VersionId: 'v9' })),
    ).rejects.toThrow(ResourceNotFoundException);
    client.destroy();
  });

  it('rotation makes the new version AWSCURRENT and the old AWSPREVIOUS, both readable', async () => {
    const first = endpoint.putSecret('rotating', 'one');
    const second = endpoint.rotateSecret('rotating', 'two');
    const third = endpoint.rotateSecret(first.arn, 'three', 'v3');
    const client = secretsClient();
    const current = await client.send(new GetSecretValueCommand({ SecretId: 'rotating' }));
    const previous = await client.send(
      new GetSecretValueCommand({ SecretId: 'rotating', VersionStage: 'AWSPREVIOUS' }),
    );
    const oldest = await client.send(
      new GetSecretValueCommand({ SecretId: 'rotating', VersionId: first.versionId }),
    );
    expect(current).toMatchObject({ SecretString: 'three', VersionId: 'v3', VersionStages: ['AWSCURRENT'] });
    expect(previous).toMatchObject({
      SecretString: 'two',
      VersionId: second.versionId,
      VersionStages: ['AWSPREVIOUS'],
    });
    expect(oldest).toMatchObject({ SecretString: 'one', VersionStages: [] });
    await expect(
      client.send(
        new GetSecretValueCommand({ SecretId: 'rotating', VersionId: 'v3', VersionStage: 'AWSPREVIOUS' }),
      ),
    ).rejects.toThrow(ResourceNotFoundException);
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'rotating' }));
    expect(described.VersionIdsToStages).toEqual({
      [second.versionId]: ['AWSPREVIOUS'],
      [third.versionId]: ['AWSCURRENT'],
    });
    expect(described.RotationEnabled).toBe(true);
    expect(described.LastRotatedDate).toBeInstanceOf(Date);
    client.destroy();
  });

  it('DescribeSecret answers metadata; a secret marked for deletion is InvalidRequestException', async () => {
    endpoint.putSecret('doomed', 'x', { description: 'soon gone' });
    const client = secretsClient();
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'doomed' }));
    expect(described).toMatchObject({ Name: 'doomed', Description: 'soon gone', RotationEnabled: false });
    endpoint.markSecretDeleted('doomed');
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'doomed' }))).rejects.toBeInstanceOf(
      InvalidRequestException,
    );
    expect((await client.send(new DescribeSecretCommand({ SecretId: 'doomed' }))).DeletedDate).toBeInstanceOf(
      Date,
    );
    await expect(client.send(new DescribeSecretCommand({ SecretId: 'never' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    client.destroy();
  });
});

describe('SSM Parameter Store', () => {
  it('GetParameter answers the latest version; SecureString only decrypted WithDecryption', async () => {
    const client = ssmClient();
    const host = await client.send(new GetParameterCommand({ Name: '/app/prod/db/host' }));
    expect(host.Parameter).toMatchObject({
      Name: '/app/prod/db/host',
      Type: 'String',
      Value: 'db2.internal',
      Version: 2,
    });
    expect(host.Parameter?.ARN).toBe('arn:aws:ssm:us-east-1:123456789012:parameter/app/prod/db/host');
    expect(host.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
    const hidden = await client.send(new GetParameterCommand({ Name: '/app/prod/db/password' }));
    expect(hidden.Parameter?.Type).toBe('SecureString');
    expect(hidden.Parameter?.Value).not.toContain('s3cret');
    const shown = await client.send(
      new GetParameterCommand({ Name: '/app/prod/db/password', WithDecryption: true }),
    );
    expect(shown.Parameter?.Value).toBe('s3cret');
    expect(endpoint.requests('GetParameter').map((r) => r.body.WithDecryption)).toEqual([
      undefined,
      undefined,
      true,
    ]);
    client.destroy();
  });

  it('GetParameter accepts name:version selectors and ARNs, and maps misses to the SDK exceptions', async () => {
    const client = ssmClient();
    const first = await client.send(new GetParameterCommand({ Name: '/app/prod/db/host:1' }));
    expect(first.Parameter).toMatchObject({ Value: 'db.internal', Version: 1, Selector: ':1' });
    const byArn = await client.send(
      new GetParameterCommand({ Name: 'arn:aws:ssm:us-east-1:123456789012:parameter/app/prod/flags' }),
    );
    expect(byArn.Parameter).toMatchObject({ Name: '/app/prod/flags', Type: 'StringList', Value: 'a,b,c' });
    await expect(client.send(new GetParameterCommand({ Name: '/missing' }))).rejects.toBeInstanceOf(
      ParameterNotFound,
    );
    await expect(
      client.send(new GetParameterCommand({ Name: '/app/prod/db/host:7' })),
    ).rejects.toBeInstanceOf(ParameterVersionNotFound);
    client.destroy();
  });

  it('GetParameters answers found names and lists unknown ones in InvalidParameters', async () => {
    const client = ssmClient();
    const output = await client.send(
      new GetParametersCommand({
        Names: ['/app/prod/db/host', '/nope', '/app/prod/db/password'],
        WithDecryption: true,
      }),
    );
    expect(output.Parameters?.map((p) => [p.Name, p.Value])).toEqual([
      ['/app/prod/db/host', 'db2.internal'],
      ['/app/prod/db/password', 's3cret'],
    ]);
    expect(output.InvalidParameters).toEqual(['/nope']);
    client.destroy();
  });

  it('GetParameters rejects more than 10 names with ValidationException', async () => {
    const client = ssmClient();
    const names = Array.from({ length: 11 }, (_, i) => `/bulk/item-${String(i).padStart(2, '0')}`);
    const failed = client.send(new GetParametersCommand({ Names: names }));
    await expect(failed).rejects.toBeInstanceOf(SSMServiceException);
    await expect(failed).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Member must have length less than or equal to 10'),
    });
    client.destroy();
  });

  it('GetParametersByPath pages with MaxResults/NextToken and honours Recursive', async () => {
    const client = ssmClient();
    const firstPage = await client.send(new GetParametersByPathCommand({ Path: '/bulk', MaxResults: 10 }));
    expect(firstPage.Parameters).toHaveLength(10);
    expect(firstPage.NextToken).toEqual(expect.any(String));
    const names: string[] = [];
    for await (const page of paginateGetParametersByPath({ client, pageSize: 7 }, { Path: '/bulk/' })) {
      names.push(...(page.Parameters ?? []).map((p) => p.Name ?? ''));
    }
    expect(names).toHaveLength(23);
    expect(names).not.toContain('/bulk/nested/deeper');
    expect(endpoint.calls('GetParametersByPath')).toBe(1 + 4);
    const recursive: string[] = [];
    for await (const page of paginateGetParametersByPath({ client }, { Path: '/bulk', Recursive: true })) {
      recursive.push(...(page.Parameters ?? []).map((p) => p.Name ?? ''));
    }
    expect(recursive).toHaveLength(24);
    expect(recursive).toContain('/bulk/nested/deeper');
    const app = await client.send(
      new GetParametersByPathCommand({ Path: '/app/prod', Recursive: true, WithDecryption: true }),
    );
    expect(Object.fromEntries((app.Parameters ?? []).map((p) => [p.Name, p.Value]))).toEqual({
      '/app/prod/db/host': 'db2.internal',
      '/app/prod/db/password': 's3cret',
      '/app/prod/flags': 'a,b,c',
    });
    client.destroy();
  });

  it('GetParametersByPath rejects MaxResults > 10 and foreign NextTokens', async () => {
    const client = ssmClient();
    await expect(
      client.send(new GetParametersByPathCommand({ Path: '/bulk', MaxResults: 11 })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
    });
    const page = await client.send(new GetParametersByPathCommand({ Path: '/bulk', MaxResults: 2 }));
    await expect(
      client.send(new GetParametersByPathCommand({ Path: '/app', NextToken: page.NextToken })),
    ).rejects.toBeInstanceOf(InvalidNextToken);
    client.destroy();
  });
});

describe('faults', () => {
  it('answers an injected error, then recovers; the wire carries __type and x-amzn-errortype', async () => {
    endpoint.inject('GetSecretValue', { kind: 'error', error: 'InternalFailure' });
    const client = secretsClient();
    const failed = client.send(new GetSecretValueCommand({ SecretId: 'prod/db' }));
    await expect(failed).rejects.toBeInstanceOf(SecretsManagerServiceException);
    await expect(failed).rejects.toMatchObject({
      name: 'InternalFailure',
      $fault: 'server',
      $metadata: { httpStatusCode: 500 },
    });
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'prod/db' }))).resolves.toMatchObject({
      Name: 'prod/db',
    });
    expect(endpoint.requests('GetSecretValue').map((r) => r.fault)).toEqual(['error', undefined]);
    client.destroy();

    const raw = await fetch(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: JSON.stringify({ SecretId: 'absent' }),
      signal: AbortSignal.timeout(5_000),
    });
    expect(raw.status).toBe(400);
    expect(raw.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(await raw.json()).toEqual({
      __type: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });
  });

  it('throttling is retried by the SDK, and each attempt is counted', async () => {
    endpoint.inject('GetParameter', { kind: 'error', error: 'ThrottlingException' });
    const client = ssmClient({ maxAttempts: 3 });
    const output = await client.send(new GetParameterCommand({ Name: '/app/prod/flags' }));
    expect(output.$metadata.attempts).toBe(2);
    expect(endpoint.calls('GetParameter')).toBe(2);

    endpoint.inject('GetParameter', {
      kind: 'error',
      error: 'ThrottlingException',
      times: Number.POSITIVE_INFINITY,
    });
    const exhausted = ssmClient({ maxAttempts: 2 });
    await expect(exhausted.send(new GetParameterCommand({ Name: '/app/prod/flags' }))).rejects.toMatchObject({
      name: 'ThrottlingException',
      $metadata: { attempts: 2, httpStatusCode: 400 },
    });
    expect(endpoint.calls('GetParameter')).toBe(4);
    client.destroy();
    exhausted.destroy();
  });

  it('a hung call is bounded by requestTimeout with throwOnRequestTimeout, and retried', async () => {
    endpoint.inject('GetSecretValue', { kind: 'hang' });
    const client = secretsClient({
      maxAttempts: 2,
      requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
    });
    const started = performance.now();
    const output = await client.send(new GetSecretValueCommand({ SecretId: 'prod/db' }));
    expect(output.Name).toBe('prod/db');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(endpoint.requests('GetSecretValue').map((r) => r.fault)).toEqual(['hang', undefined]);
    client.destroy();
  });

  it('without throwOnRequestTimeout the SDK only warns: an abortSignal bounds the hang', async () => {
    endpoint.inject('GetSecretValue', { kind: 'hang' });
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(String(m)), error() {} };
    const client = secretsClient({ requestHandler: { requestTimeout: 200 }, logger });
    const hung = client.send(new GetSecretValueCommand({ SecretId: 'prod/db' }), {
      abortSignal: AbortSignal.timeout(600),
    });
    await expect(hung).rejects.toMatchObject({ name: 'AbortError' });
    expect(warnings.join('\n')).toMatch(/exceeded the configured 200 ms requestTimeout/);
    client.destroy();
  });

  it('a reset connection surfaces as ECONNRESET and is retried as transient', async () => {
    endpoint.inject('GetParameters', { kind: 'reset' });
    const once = ssmClient();
    await expect(once.send(new GetParametersCommand({ Names: ['/app/prod/flags'] }))).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
    endpoint.inject('GetParameters', { kind: 'reset' });
    const retrying = ssmClient({ maxAttempts: 2 });
    const output = await retrying.send(new GetParametersCommand({ Names: ['/app/prod/flags'] }));
    expect(output.Parameters).toHaveLength(1);
    expect(endpoint.calls('GetParameters')).toBe(3);
    once.destroy();
    retrying.destroy();
  });

  it('delays an answer; faults for "*" apply to any operation; waitForCalls is bounded', async () => {
    endpoint.inject('*', { kind: 'delay', ms: 150, times: 2 });
    const client = ssmClient();
    const started = performance.now();
    await client.send(new GetParameterCommand({ Name: '/app/prod/flags' }));
    await client.send(new GetParametersCommand({ Names: ['/app/prod/flags'] }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    await endpoint.waitForCalls('GetParameters', 1, 1_000);
    await expect(endpoint.waitForCalls('GetParametersByPath', 1, 50)).rejects.toThrow(/0 of 1 calls/);
    expect(endpoint.calls()).toBe(2);
    client.destroy();
  });

  it('refuses unsigned requests and unknown operations the AWS way', async () => {
    const unsigned = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' },
      body: '{"Name":"/app/prod/flags"}',
      signal: AbortSignal.timeout(5_000),
    });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    const unknown = await fetch(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonSSM.PutParameter',
        authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ssm/aws4_request, Signature=0',
      },
      body: '{}',
      signal: AbortSignal.timeout(5_000),
    });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });
});
