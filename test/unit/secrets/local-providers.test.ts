import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  ConfigurationError,
  createSecretStore,
  MissingDependencyError,
  SecretAccessDeniedError,
  SecretNotFoundError,
  type SecretProvider,
  SecretReferenceError,
  SecretsStartupError,
  SecretTransformError,
} from '../../../src/index.js';
import { importPeer } from '../../../src/internal/import-peer.js';
import { parseDotenv } from '../../../src/secrets/providers/file.js';
import { selectJsonKey } from '../../../src/secrets/providers/secrets-manager.js';

const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  join(dir, 'secrets.json'),
  JSON.stringify({ db: { password: 'json-pass' }, token: 'json-token' }),
);
writeFileSync(
  join(dir, '.env'),
  'export DB_PASSWORD="dot pass"\n# comment\nAPI_KEY=plain-key # trailing\nEMPTY=\n',
);
writeFileSync(join(dir, 'token.txt'), 'file-token-value\n');

describe('a secret that does not parse as JSON', () => {
  /** Everything an error prints: its message, its stack and its causes', as stderr shows them. */
  const printed = (error: unknown) => inspect(error, { depth: 10 });

  it.each([
    ['a short one, quoted whole by V8', 'hunter2-SUPERSECRET'],
    ['a long one, quoted around the fault', `{"password":"${'S3CR3T'.repeat(20)}" oops}`],
  ])('is never quoted in the error, nor in its cause: %s', (_, secret) => {
    let caught: unknown;
    try {
      selectJsonKey('secretsmanager:prod/db#password', secret, 'password');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SecretTransformError);
    expect(printed(caught)).not.toMatch(/hunter2|S3CR3T/);
    expect(printed(caught)).toMatch(/not valid JSON/);
  });

  it('from a file that starts like JSON, and from getJson', async () => {
    writeFileSync(join(dir, 'broken.json'), '{"password": hunter2-SUPERSECRET}');
    writeFileSync(join(dir, 'plain.txt'), 'hunter2-SUPERSECRET');
    const store = createSecretStore({
      env: {},
      cwd: dir,
      secrets: { BROKEN: 'file:broken.json#password', PLAIN: 'file:plain.txt' },
    });
    const failed = await store.load().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(SecretsStartupError);
    expect(printed(failed)).toMatch(/does not parse/);
    expect(printed(failed)).not.toMatch(/hunter2/);
    const plain = createSecretStore({ env: {}, cwd: dir, secrets: { PLAIN: 'file:plain.txt' } });
    await plain.load();
    let caught: unknown;
    try {
      plain.getJson('PLAIN');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SecretTransformError);
    expect(printed(caught)).not.toMatch(/hunter2/);
  });
});

describe('local providers', () => {
  it('reads env:, whole files, and keys of JSON and dotenv files', async () => {
    const store = createSecretStore({
      env: { LOCAL: 'from-env' },
      cwd: dir,
      secrets: {
        FROM_ENV: 'env:LOCAL',
        WHOLE: 'file:token.txt',
        JSON_KEY: `file:${join(dir, 'secrets.json')}#token`,
        JSON_OBJECT: 'file:secrets.json#db',
        DOTENV: 'file:.env#DB_PASSWORD',
        DOTENV_PLAIN: 'file:.env#API_KEY',
        EMPTY: 'file:.env#EMPTY',
      },
    });
    await store.load();
    expect(store.get('FROM_ENV')).toBe('from-env');
    expect(store.get('WHOLE')).toBe('file-token-value');
    expect(store.get('JSON_KEY')).toBe('json-token');
    expect(store.getJson('JSON_OBJECT')).toEqual({ password: 'json-pass' });
    expect(store.get('DOTENV')).toBe('dot pass');
    expect(store.get('DOTENV_PLAIN')).toBe('plain-key');
    expect(store.get('EMPTY')).toBe('');
  });

  it('fails clearly on a missing variable, file or key, and skips optional ones', async () => {
    const store = createSecretStore({
      env: {},
      cwd: dir,
      secrets: {
        A: 'env:NOPE',
        B: 'file:missing.txt',
        C: 'file:.env#NOPE',
        D: { ref: 'env:NOPE2', optional: true },
        E: 'file:secrets.json#constructor', // an object's own keys only, not what every object has
        F: 'file:.env#toString',
      },
    });
    const error = (await store.load().catch((caught: unknown) => caught)) as Error & { failures: Error[] };
    expect(error.failures).toHaveLength(5);
    expect(error.message).toContain('has no key "constructor"');
    expect(error.failures.every((f) => f instanceof SecretNotFoundError)).toBe(true);
    expect(error.message).toContain('environment variable NOPE is not set');
    expect(error.message).toContain('missing.txt');
    expect(error.message).toContain('has no key "NOPE"');
    expect(store.has('D')).toBe(false);
    expect(() => store.get('D')).toThrow(/optional and was not loaded/);
  });

  it('tries an optional secret that did not load (not found) again as it is read, after 30 s, until it is there', async () => {
    const env: Record<string, string> = {};
    const store = createSecretStore({ env, secrets: { LATER: { ref: 'env:LATER', optional: true } } });
    await store.load();
    expect(store.has('LATER')).toBe(false);
    env.LATER = 'created-later';
    const now = performance.now();
    const clock = vi.spyOn(performance, 'now');
    try {
      // Within the first backoff of a value not found (30 s, ± 20 %): not tried. A fleet reading a
      // missing optional parameter every second would spend the shared quota on it.
      clock.mockReturnValue(now + 20_000);
      expect(store.has('LATER')).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(store.has('LATER')).toBe(false);
      clock.mockReturnValue(now + 36_100); // past it: this read starts an attempt in the background
      expect(store.has('LATER')).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(store.get('LATER')).toBe('created-later');
    } finally {
      clock.mockRestore();
    }
  });

  it('serves a custom scheme through a registered provider', async () => {
    const calls: string[] = [];
    const vault: SecretProvider = {
      async fetch(reference) {
        calls.push(reference.raw);
        return {
          value: `vault-value-for-${reference.kind === 'custom' ? reference.path : ''}`,
          sensitive: true,
        };
      },
    };
    const store = createSecretStore({ secrets: { T: 'vault:kv/app' }, options: { providers: { vault } } });
    await store.load();
    expect(store.get('T')).toBe('vault-value-for-kv/app');
    expect(calls).toEqual(['vault:kv/app']);
  });

  it('after a batch denied as a whole, reports what each reference met asked alone, not the batch’s denial', async () => {
    const denial = new Error('User is not authorized');
    const vault: SecretProvider = {
      // Each alone takes longer than the start-up budget.
      fetch: (_reference, signal) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      async fetchMany(references) {
        return new Map(
          references.map((reference) => [
            reference,
            new SecretAccessDeniedError(`${reference.raw}: AccessDeniedException`, {
              reference: reference.raw,
              awsCode: 'AccessDeniedException',
              cause: denial,
            }),
          ]),
        );
      },
    };
    const store = createSecretStore({
      secrets: { A: 'vault:a', B: 'vault:b' },
      options: { providers: { vault }, startupTimeoutMs: 300 },
    });
    const error = (await store.load().catch((caught: unknown) => caught)) as SecretsStartupError;
    expect(error).toBeInstanceOf(SecretsStartupError);
    expect(error.failures.map((failure) => failure.code)).toEqual([
      'ARK_SECRET_TIMEOUT',
      'ARK_SECRET_TIMEOUT',
    ]);
    expect(error.message).not.toContain('AccessDeniedException');
  });

  it('exports declared secrets to process.env when asked', async () => {
    const store = createSecretStore({
      env: { X: 'exported-value' },
      secrets: { APPRUNNER_KIT_TEST_EXPORTED: 'env:X' },
      options: { exportToEnv: true },
    });
    await store.load();
    expect(process.env.APPRUNNER_KIT_TEST_EXPORTED).toBe('exported-value');
    delete process.env.APPRUNNER_KIT_TEST_EXPORTED;
  });

  it('parses dotenv quoting and comments', () => {
    expect(
      parseDotenv('A=1\nB="two words"\nC=\'single\'\n#x=y\nexport D=4 # note\nE="line\\nbreak"'),
    ).toEqual({
      A: '1',
      B: 'two words',
      C: 'single',
      D: '4',
      E: 'line\nbreak',
    });
  });
});

describe('secret store validation', () => {
  it.each([
    [{ secrets: { A: 42 } }, 'secrets.A'],
    [{ secrets: { A: { ref: 'env:X', ttlMs: 10 } } }, 'secrets.A.ttlMs'],
    [{ secrets: { A: { ref: 'env:X', optional: 'yes' } } }, 'secrets.A.optional'],
    [{ secrets: { A: { ref: 'env:X', extra: 1 } } }, 'secrets.A.extra'],
    [{ secrets: { 'bad name': 'env:X' }, options: { exportToEnv: true } }, 'secrets.bad name'],
    [{ options: { ttlMs: -1 } }, 'secretOptions.ttlMs'],
    [{ options: { aws: { maxAttempts: 0 } } }, 'secretOptions.aws.maxAttempts'],
    [{ options: { providers: { ssm: { fetch() {} } } } }, 'secretOptions.providers.ssm'],
    [{ options: { providers: { vault: {} } } }, 'secretOptions.providers.vault'],
    [{ options: { clients: { ssm: {} } } }, 'secretOptions.clients.ssm'],
    [{ options: { cache: true } }, 'secretOptions.cache'],
  ])('rejects %j naming %s', (options, field) => {
    expect(() => createSecretStore(options as never)).toThrow(ConfigurationError);
    try {
      createSecretStore(options as never);
    } catch (error) {
      expect((error as ConfigurationError).field).toBe(field);
    }
  });

  it('rejects an invalid reference naming the secret', () => {
    expect(() => createSecretStore({ secrets: { DB: 'vault:x' } })).toThrow(SecretReferenceError);
    expect(() => createSecretStore({ secrets: { DB: 'vault:x' } })).toThrow(
      /^secrets\.DB: Invalid secret reference "vault:x"/,
    );
  });

  it('names a missing optional peer and its install command', async () => {
    const error = await importPeer(
      'A test reference',
      () => import('@aws-sdk/client-not-installed' as string),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as Error).message).toContain('npm install @aws-sdk/client-not-installed');
  });
});
