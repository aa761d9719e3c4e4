import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  bootstrapAppRunner,
  createSecretStore,
  redaction,
  SecretAccessDeniedError,
  SecretNotDeclaredError,
  SecretNotFoundError,
  SecretsStartupError,
  SecretTimeoutError,
  SecretTransformError,
} from '../../../src/index.js';
import { createLogger } from '../../../src/logging/logger.js';
import { type AwsEndpoint, applyEnv, awsClientEnv, startAwsEndpoint } from '../../support/aws-endpoint.js';
import { captureLogs } from '../../support/log-capture.js';

let endpoint: AwsEndpoint;
let restoreEnv: () => void;

beforeAll(async () => {
  endpoint = await startAwsEndpoint();
  restoreEnv = applyEnv(awsClientEnv(endpoint));
  endpoint.putSecret('prod/db', JSON.stringify({ username: 'app', password: 'pa55-w0rd-db', port: 5432 }));
  endpoint.putSecret('prod/api-key', 'api-key-value-123');
  endpoint.putSecret('prod/cert', new Uint8Array([0, 1, 2, 250, 251, 255]));
  endpoint.putSecret('prod/empty', '');
  endpoint.putSecret('prod/zero', '0');
  endpoint.putParameter('/notes/feature-flag', 'on', { type: 'String' });
  endpoint.putParameter('/notes/token', 'secure-token-value', { type: 'SecureString' });
});

afterAll(async () => {
  restoreEnv?.();
  await endpoint?.close();
});

afterEach(() => {
  endpoint.clearFaults();
  endpoint.resetCalls();
});

const fast = {
  aws: { requestTimeoutMs: 300, connectTimeoutMs: 300, maxAttempts: 2 },
  startupTimeoutMs: 3_000,
};

describe('Secrets Manager through the real SDK client', () => {
  it('loads string, JSON key, binary and falsy values', async () => {
    const store = createSecretStore({
      secrets: {
        API_KEY: 'secretsmanager:prod/api-key',
        DB_PASSWORD: 'secretsmanager:prod/db#password',
        DB_PORT: 'secretsmanager:prod/db#port',
        CERT: 'secretsmanager:prod/cert',
        EMPTY: 'secretsmanager:prod/empty',
        ZERO: 'secretsmanager:prod/zero',
      },
      options: fast,
    });
    await store.load();
    expect(store.get('API_KEY')).toBe('api-key-value-123');
    expect(store.get('DB_PASSWORD')).toBe('pa55-w0rd-db');
    expect(store.get('DB_PORT')).toBe('5432');
    expect([...store.getBuffer('CERT')]).toEqual([0, 1, 2, 250, 251, 255]);
    expect(store.get('EMPTY')).toBe('');
    expect(store.get('ZERO')).toBe('0');
    // Two keys of one secret share one GetSecretValue call.
    expect(endpoint.requests('GetSecretValue').filter((r) => r.body.SecretId === 'prod/db')).toHaveLength(1);
  });

  it('reads the secret by ARN in App Runner form and by version stage', async () => {
    endpoint.putSecret('prod/rotating', JSON.stringify({ password: 'first-password' }));
    endpoint.rotateSecret('prod/rotating', JSON.stringify({ password: 'second-password' }));
    const arn = `arn:aws:secretsmanager:${endpoint.region}:${endpoint.accountId}:secret:prod/rotating`;
    const store = createSecretStore({
      secrets: {
        CURRENT: `${arn}:password::`,
        PREVIOUS: `secretsmanager:prod/rotating?versionStage=AWSPREVIOUS#password`,
      },
      options: fast,
    });
    await store.load();
    expect(store.get('CURRENT')).toBe('second-password');
    expect(store.get('PREVIOUS')).toBe('first-password');
  });

  it('picks up a rotation on refresh(), and logs it without the value', async () => {
    endpoint.putSecret('prod/rotate-me', 'before-rotation');
    const logs = captureLogs();
    const store = createSecretStore({
      secrets: { TOKEN: 'secretsmanager:prod/rotate-me' },
      options: fast,
      logger: createLogger({ service: 't', destination: logs }),
    });
    await store.load();
    endpoint.rotateSecret('prod/rotate-me', 'after-rotation');
    expect(store.get('TOKEN')).toBe('before-rotation');
    expect(await store.refresh('TOKEN')).toBe('after-rotation');
    expect(store.get('TOKEN')).toBe('after-rotation');
    expect(logs.lines.some((l) => String(l.msg).includes('rotated'))).toBe(true);
    expect(JSON.stringify(logs.lines)).not.toContain('after-rotation');
  });

  it('masks each field of a JSON secret read with getJson or a #key, the rotated-out ones too', async () => {
    endpoint.putSecret(
      'prod/json-db',
      JSON.stringify({
        username: 'app',
        password: 'sm-Pa55word-one',
        tls: { clientKey: 'sm-client-key-one' },
      }),
    );
    const logs = captureLogs();
    const logger = createLogger({ service: 't', destination: logs });
    const store = createSecretStore({
      secrets: { DB: 'secretsmanager:prod/json-db', TLS: 'secretsmanager:prod/json-db#tls' },
      options: fast,
      logger,
    });
    await store.load();
    const before = store.getJson<{ password: string }>('DB');
    const tls = store.getJson<{ clientKey: string }>('TLS');
    endpoint.rotateSecret(
      'prod/json-db',
      JSON.stringify({
        username: 'app',
        password: 'sm-Pa55word-two',
        tls: { clientKey: 'sm-client-key-two' },
      }),
    );
    await store.refresh('DB');
    const after = store.getJson<{ password: string; tls: { clientKey: string } }>('DB');
    expect(after.password).toBe('sm-Pa55word-two');

    logger.info({ db: after }, `pool: was ${before.password}, now ${after.password}, key ${tls.clientKey}`);
    logger.error({ err: new Error(`password authentication failed for ${before.password}`) }, 'pool error');
    expect(JSON.stringify(logs.lines)).not.toMatch(/sm-Pa55word|sm-client-key/);
    expect(logs.lines.at(-2)?.msg).toBe('pool: was [REDACTED], now [REDACTED], key [REDACTED]');
    expect(logs.lines.at(-2)?.db).toEqual({
      username: 'app',
      password: '[REDACTED]',
      tls: { clientKey: '[REDACTED]' },
    });
  });

  it('refreshes the JSON keys of one secret together, in one call, from one version', async () => {
    endpoint.putSecret('prod/multi-user', JSON.stringify({ username: 'user-a', password: 'password-a' }));
    const store = createSecretStore({
      secrets: {
        // TTLs of their own: the username would not be due for a minute.
        DB_USER: { ref: 'secretsmanager:prod/multi-user#username', ttlMs: 60_000 },
        DB_PASSWORD: { ref: 'secretsmanager:prod/multi-user#password', ttlMs: 1_000 },
        API_KEY: { ref: 'secretsmanager:prod/api-key', ttlMs: 1_000 },
      },
      options: fast,
    });
    await store.load();
    const second = endpoint.rotateSecret(
      'prod/multi-user',
      JSON.stringify({ username: 'user-b', password: 'password-b' }),
    );
    endpoint.resetCalls();
    await new Promise((resolve) => setTimeout(resolve, 1_050)); // the password past its TTL
    // Only the password is read: the username comes along in its call; the API key, due but not
    // read, and of another secret, does not.
    expect(store.get('DB_PASSWORD')).toBe('password-a');
    await vi.waitFor(() => expect(store.info('DB_USER')?.version).toBe(second.versionId));
    expect([store.get('DB_USER'), store.get('DB_PASSWORD')]).toEqual(['user-b', 'password-b']);
    expect(endpoint.requests('GetSecretValue').map((r) => r.body.SecretId)).toEqual(['prod/multi-user']);
    // refresh() after an authentication failure brings the other key along, in the same call.
    endpoint.rotateSecret('prod/multi-user', JSON.stringify({ username: 'user-a', password: 'password-c' }));
    endpoint.resetCalls();
    expect(await store.refresh('DB_PASSWORD')).toBe('password-c');
    expect(store.get('DB_USER')).toBe('user-a');
    expect(endpoint.calls('GetSecretValue')).toBe(1);
  });

  it("selects a JSON secret's own keys only: #constructor is no key of it", async () => {
    const store = createSecretStore({ options: fast });
    await expect(store.resolve('secretsmanager:prod/db#constructor')).rejects.toThrow(
      /has no key "constructor" \(its keys: username, password, port\)/,
    );
  });

  it('shares one call among concurrent resolves of one reference', async () => {
    endpoint.inject('GetSecretValue', { kind: 'delay', ms: 50 });
    const store = createSecretStore({ options: fast });
    const values = await Promise.all(
      Array.from({ length: 30 }, () => store.resolve('secretsmanager:prod/api-key')),
    );
    expect(new Set(values)).toEqual(new Set(['api-key-value-123']));
    expect(endpoint.calls('GetSecretValue')).toBe(1);
  });

  it('retries throttling, within the capped attempts', async () => {
    endpoint.inject('GetSecretValue', { kind: 'error', error: 'ThrottlingException', times: 1 });
    const store = createSecretStore({ options: { ...fast, aws: { ...fast.aws, maxAttempts: 3 } } });
    expect(await store.resolve('secretsmanager:prod/api-key')).toBe('api-key-value-123');
    expect(endpoint.calls('GetSecretValue')).toBe(2);
  });

  it('serves the cached value when a refresh meets a failing endpoint', async () => {
    const store = createSecretStore({ secrets: { KEY: 'secretsmanager:prod/api-key' }, options: fast });
    await store.load();
    endpoint.inject('GetSecretValue', {
      kind: 'error',
      error: 'InternalFailure',
      times: Number.POSITIVE_INFINITY,
    });
    await expect(store.refresh('KEY')).rejects.toThrow(/InternalFailure/);
    expect(store.get('KEY')).toBe('api-key-value-123');
  });

  it('bounds a hanging endpoint by the request timeout and attempts', async () => {
    endpoint.inject('GetSecretValue', { kind: 'hang', times: Number.POSITIVE_INFINITY });
    const store = createSecretStore({ options: fast });
    const started = performance.now();
    await expect(store.resolve('secretsmanager:prod/api-key')).rejects.toBeInstanceOf(SecretTimeoutError);
    expect(performance.now() - started).toBeLessThan(2_500);
  });
});

describe('SSM Parameter Store through the real SDK client', () => {
  it('batches start-up reads in GetParameters calls of 10', async () => {
    const secrets: Record<string, string> = {};
    for (let i = 0; i < 25; i++) {
      endpoint.putParameter(`/batch/p${i}`, `value-${i}`, { type: i % 2 === 0 ? 'SecureString' : 'String' });
      secrets[`P${i}`] = `ssm:/batch/p${i}`;
    }
    const store = createSecretStore({ secrets, options: fast });
    await store.load();
    expect(store.get('P0')).toBe('value-0');
    expect(store.get('P24')).toBe('value-24');
    const batches = endpoint.requests('GetParameters').map((r) => (r.body.Names as string[]).length);
    expect(batches.sort((a, b) => a - b)).toEqual([5, 10, 10]);
    expect(endpoint.requests('GetParameters').every((r) => r.body.WithDecryption === true)).toBe(true);
    expect(endpoint.calls('GetParameter')).toBe(0);
  });

  it('refreshes parameters that fall due together in GetParameters batches, rotated values included', async () => {
    const secrets: Record<string, string> = {};
    for (let i = 0; i < 12; i++) {
      endpoint.putParameter(`/refresh/p${i}`, `first-${i}-value`, { type: 'SecureString' });
      secrets[`R${i}`] = `ssm:/refresh/p${i}`;
    }
    const store = createSecretStore({ secrets, options: { ...fast, ttlMs: 1_000 } });
    await store.load();
    for (let i = 0; i < 12; i++) endpoint.putParameter(`/refresh/p${i}`, `second-${i}-value`);
    endpoint.resetCalls();
    await new Promise((resolve) => setTimeout(resolve, 1_050)); // every value past its TTL
    expect(store.get('R7')).toBe('first-7-value'); // served while one refresh brings every due one
    await vi.waitFor(() => {
      for (let i = 0; i < 12; i++) expect(store.get(`R${i}`)).toBe(`second-${i}-value`);
    });
    const batches = endpoint.requests('GetParameters').map((r) => (r.body.Names as string[]).length);
    expect(batches.sort((a, b) => a - b)).toEqual([2, 10]);
    expect(endpoint.calls('GetParameter')).toBe(0);
  });

  it('masks SecureStrings in logs, not plain Strings', async () => {
    const store = createSecretStore({
      secrets: { FLAG: 'ssm:/notes/feature-flag', TOKEN: 'ssm:/notes/token' },
      options: fast,
    });
    await store.load();
    expect(redaction.has('secure-token-value')).toBe(true);
    expect(redaction.has('on')).toBe(false);
  });

  it('loads a prefix page by page', async () => {
    for (let i = 0; i < 23; i++) endpoint.putParameter(`/paged/app/k${i}`, `v${i}`);
    const store = createSecretStore({ options: fast });
    const values = await store.loadPath('ssm:/paged/app/');
    expect(Object.keys(values)).toHaveLength(23);
    expect(values['/paged/app/k7']).toBe('v7');
    expect(endpoint.calls('GetParametersByPath')).toBe(3);
    await expect(store.loadPath('ssm:/paged/app:3')).rejects.toThrow(
      'Invalid secret reference "ssm:/paged/app:3": a prefix takes no version or label',
    );
  });

  it("loads a prefix through throttling past the SDK's own attempts: the throttled page is asked again", async () => {
    for (let i = 0; i < 23; i++) endpoint.putParameter(`/throttled/app/k${i}`, `v${i}`);
    const store = createSecretStore({ options: fast }); // the SDK tries each call twice
    const first = await store.loadPath('ssm:/throttled/app/');
    expect(Object.keys(first)).toHaveLength(23);
    endpoint.resetCalls();
    endpoint.inject('GetParametersByPath', { kind: 'error', error: 'ThrottlingException', times: 3 });
    const values = await store.loadPath('ssm:/throttled/app/');
    expect(values).toEqual(first);
    expect(endpoint.calls('GetParametersByPath')).toBe(3 + 3); // three pages, three throttled asks
  });

  it('asks for a parameter given by ARN by its ARN (one shared from another account is found only so)', async () => {
    const arn = 'arn:aws:ssm:us-east-1:123456789012:parameter/notes/token';
    const flagArn = 'arn:aws:ssm:us-east-1:123456789012:parameter/notes/feature-flag';
    const store = createSecretStore({ secrets: { SHARED: arn, FLAG: flagArn }, options: fast });
    await store.load(); // one GetParameters call, whose answers are matched to the ARNs asked for
    expect([store.get('SHARED'), store.get('FLAG')]).toEqual(['secure-token-value', 'on']);
    expect(endpoint.requests('GetParameters').map((r) => r.body.Names)).toEqual([[arn, flagArn]]);
    expect(await createSecretStore({ options: fast }).resolve(arn)).toBe('secure-token-value');
    expect(endpoint.requests('GetParameter').map((r) => r.body.Name)).toEqual([arn]);
  });

  it('loads a parameter pinned to a version, by name or by ARN, in a GetParameters batch too', async () => {
    endpoint.putParameter('/pinned/db', 'first-db-value', { type: 'SecureString' });
    endpoint.putParameter('/pinned/db', 'second-db-value');
    const arn = 'arn:aws:ssm:us-east-1:123456789012:parameter/pinned/db:1';
    const store = createSecretStore({
      secrets: { BY_NAME: 'ssm:/pinned/db:1', BY_ARN: arn, LATEST: 'ssm:/pinned/db' },
      options: fast,
    });
    await store.load(); // SSM answers a pinned parameter with its name, and the selector apart
    expect([store.get('BY_NAME'), store.get('BY_ARN'), store.get('LATEST')]).toEqual([
      'first-db-value',
      'first-db-value',
      'second-db-value',
    ]);
    expect(
      endpoint
        .requests('GetParameters')
        .flatMap((r) => r.body.Names as string[])
        .sort(),
    ).toEqual(['/pinned/db', '/pinned/db:1', arn].sort());
  });

  it('resolves one parameter with GetParameter and decryption', async () => {
    const store = createSecretStore({ options: fast });
    expect(await store.resolve('ssm:/notes/token')).toBe('secure-token-value');
    expect(endpoint.requests('GetParameter')[0]?.body).toMatchObject({
      Name: '/notes/token',
      WithDecryption: true,
    });
  });
});

describe('start-up failures', () => {
  it('names every failing reference with its AWS code and the fix', async () => {
    endpoint.inject('GetSecretValue', { kind: 'error', error: 'AccessDeniedException', times: 1 });
    const store = createSecretStore({
      secrets: {
        DENIED: 'secretsmanager:prod/api-key',
        MISSING: 'ssm:/notes/missing',
        NO_PARAM: 'ssm:/notes/nope',
        FLAG: 'ssm:/notes/feature-flag',
        OPTIONAL: { ref: 'ssm:/notes/also-nope', optional: true },
      },
      options: fast,
    });
    let error: SecretsStartupError | undefined;
    try {
      await store.load();
    } catch (caught) {
      error = caught as SecretsStartupError;
    }
    expect(error).toBeInstanceOf(SecretsStartupError);
    expect(error!.failures).toHaveLength(3);
    expect(error!.message).toContain('3 of 5 secrets could not be loaded');
    expect(error!.message).toMatch(
      /DENIED \(secretsmanager:prod\/api-key\): AccessDeniedException .*Grant the app's role .*the ECS task role.*IRSA or EKS Pod Identity\) secretsmanager:GetSecretValue/,
    );
    // One reason, named once after the secrets it stopped.
    expect(error!.message).toMatch(
      /MISSING \(ssm:\/notes\/missing\) and NO_PARAM \(ssm:\/notes\/nope\): ParameterNotFound/,
    );
    expect(error!.failures[0]).toBeInstanceOf(SecretAccessDeniedError);
    expect(error!.failures[1]).toBeInstanceOf(SecretNotFoundError);
    expect((error!.failures[0] as SecretAccessDeniedError).awsCode).toBe('AccessDeniedException');
  });

  it('tells refused credentials (an expired token) from a denied access: no permission to grant', async () => {
    endpoint.inject('GetSecretValue', { kind: 'error', error: 'ExpiredTokenException', times: 1 });
    const store = createSecretStore({ secrets: { KEY: 'secretsmanager:prod/api-key' }, options: fast });
    const error = (await store.load().catch((caught: unknown) => caught)) as SecretsStartupError;
    expect(error).toBeInstanceOf(SecretsStartupError);
    expect(error.failures[0]).not.toBeInstanceOf(SecretAccessDeniedError);
    expect(error.failures[0]).toMatchObject({
      code: 'ARK_SECRET_FETCH_FAILED',
      awsCode: 'ExpiredTokenException',
    });
    expect(error.message).toContain('AWS refused the credentials, not the access');
    expect(error.message).not.toContain('Grant ');
  });

  it('says a missing secret is not found, with the region hint', async () => {
    const store = createSecretStore({ secrets: { MISSING: 'secretsmanager:prod/nope' }, options: fast });
    const error = (await store.load().catch((caught: unknown) => caught)) as SecretsStartupError;
    expect(error.failures[0]).toBeInstanceOf(SecretNotFoundError);
    expect(error.message).toMatch(/ResourceNotFoundException .*region/);
  });

  it('says a secret scheduled for deletion is one, with how to restore it', async () => {
    endpoint.putSecret('prod/retired', 'retired-value-1');
    endpoint.markSecretDeleted('prod/retired');
    const store = createSecretStore({ secrets: { RETIRED: 'secretsmanager:prod/retired' }, options: fast });
    const error = (await store.load().catch((caught: unknown) => caught)) as SecretsStartupError;
    expect(error.failures[0]).toBeInstanceOf(SecretNotFoundError);
    expect(error.message).toMatch(
      /InvalidRequestException .*scheduled for deletion: restore it \(RestoreSecret\)/,
    );
  });

  it('gives up within the start-up budget on a hanging endpoint, with the VPC hint', async () => {
    endpoint.inject('GetSecretValue', { kind: 'hang', times: Number.POSITIVE_INFINITY });
    const store = createSecretStore({
      secrets: { KEY: 'secretsmanager:prod/api-key' },
      options: { startupTimeoutMs: 500, aws: { requestTimeoutMs: 5_000, maxAttempts: 1 } },
    });
    const started = performance.now();
    await expect(store.load()).rejects.toThrow(/start-up budget of 500 ms.*NAT gateway/s);
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('stops bootstrapAppRunner before it listens', async () => {
    const promise = bootstrapAppRunner({
      app: (_req, res) => res.end(),
      port: 0,
      env: {},
      logging: { destination: captureLogs() },
      shutdown: { signals: [], exit: false, handleProcessErrors: false },
      secrets: { KEY: 'secretsmanager:prod/does-not-exist' },
      secretOptions: fast,
    });
    await expect(promise).rejects.toBeInstanceOf(SecretsStartupError);
  });
});

describe('runtime.secrets', () => {
  it('serves declared secrets synchronously and masks them in log lines', async () => {
    const logs = captureLogs();
    const runtime = await bootstrapAppRunner({
      app: (_req, res) => res.end(),
      port: 0,
      env: {},
      logging: { destination: logs, requests: false },
      shutdown: { signals: [], exit: false, handleProcessErrors: false },
      secrets: { DB_PASSWORD: 'secretsmanager:prod/db#password', LOCAL: 'env:NOT_SET_ANYWHERE_PLEASE' },
      secretOptions: fast,
    }).catch((error: unknown) => error);
    expect(runtime).toBeInstanceOf(SecretsStartupError); // env: reads options.env, which is empty

    const ok = await bootstrapAppRunner({
      app: (_req, res) => res.end(),
      port: 0,
      env: { LOCAL_TOKEN: 'local-token-value' },
      logging: { destination: logs, requests: false },
      shutdown: { signals: [], exit: false, handleProcessErrors: false },
      secrets: { DB_PASSWORD: 'secretsmanager:prod/db#password', LOCAL: 'env:LOCAL_TOKEN' },
      secretOptions: fast,
    });
    try {
      expect(ok.secrets.get('DB_PASSWORD')).toBe('pa55-w0rd-db');
      expect(ok.secrets.get('LOCAL')).toBe('local-token-value');
      expect(() => ok.secrets.get('NOPE')).toThrow(SecretNotDeclaredError);
      expect(() => ok.secrets.getJson('DB_PASSWORD')).toThrow(SecretTransformError);
      ok.logger.info(
        { connection: `postgres://app:${ok.secrets.get('DB_PASSWORD')}@db/notes` },
        'connecting',
      );
      expect(logs.find('connecting')[0]?.connection).toBe('postgres://app:[REDACTED]@db/notes');
    } finally {
      await ok.shutdown();
    }
  });
});
