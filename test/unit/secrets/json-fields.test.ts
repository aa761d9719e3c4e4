import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSecretStore } from '../../../src/index.js';
import { createLogger } from '../../../src/logging/logger.js';
import { jsonSecretFields, maxMaskedJsonFields } from '../../../src/secrets/json-fields.js';
import { captureLogs } from '../../support/log-capture.js';

describe('jsonSecretFields', () => {
  it('takes the string fields, nested ones too, in document order, once each; not numbers, booleans or keys', () => {
    const text = JSON.stringify({
      username: 'app',
      password: 'Pa55word-xyz',
      port: 5432123,
      tls: true,
      replicas: [{ endpoint: 'replica-1.internal', password: 'Pa55word-xyz' }, 'replica-2.internal'],
      nested: { deeper: { apiToken: 'tok-123456' } },
    });
    expect(jsonSecretFields(text)).toEqual({
      values: ['Pa55word-xyz', 'replica-1.internal', 'replica-2.internal', 'tok-123456'],
      tooShort: [],
      beyondBound: 0,
    });
  });

  it("leaves out the connection fields of AWS's secret templates, which name where, not how to get in", () => {
    const rds = JSON.stringify({
      engine: 'postgres',
      host: 'notes.cluster-abc.us-east-1.rds.amazonaws.com',
      username: 'notes_app',
      password: 'Pa55word-xyz',
      dbname: 'notesdb',
      port: 5432,
      dbInstanceIdentifier: 'notes-primary',
    });
    expect(jsonSecretFields(rds)?.values).toEqual(['Pa55word-xyz']);
  });

  it('names the paths of fields too short to mask, never their values', () => {
    const fields = jsonSecretFields(
      JSON.stringify({ db: { user: 'ab', pin: '1234' }, list: ['x'], empty: '' }),
    );
    expect(fields?.tooShort).toEqual(['db.user', 'db.pin', 'list[0]']);
  });

  it('takes a JSON string whole, and leaves any other text alone (masked whole, as before)', () => {
    expect(jsonSecretFields(' "Pa55word-quoted" ')?.values).toEqual(['Pa55word-quoted']);
    for (const text of ['plain-password', '123456789', '{not json', 'true', '']) {
      expect(jsonSecretFields(text)).toBeUndefined();
    }
  });

  it(`registers ${maxMaskedJsonFields} values at most, counting those left out`, () => {
    const document = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`k${i}`, `value-${i}`]));
    const fields = jsonSecretFields(JSON.stringify(document));
    expect(fields?.values).toHaveLength(maxMaskedJsonFields);
    expect(fields?.values.at(-1)).toBe(`value-${maxMaskedJsonFields - 1}`);
    expect(fields?.beyondBound).toBe(1_000 - maxMaskedJsonFields);
  });

  it('walks a deeply nested document without overflowing the stack', () => {
    const depth = 100_000;
    const text = `${'['.repeat(depth)}"deep-secret"${']'.repeat(depth)}`;
    expect(jsonSecretFields(text)?.values).toEqual(['deep-secret']);
  });
});

describe("a JSON secret's fields in log lines", () => {
  const dir = mkdtempSync(join(tmpdir(), 'json-secret-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are masked when read with getJson or a #key, in a message, a logged object and an error', async () => {
    writeFileSync(
      join(dir, 'app.json'),
      JSON.stringify({
        db: { username: 'ro', password: 'file-Pa55word-xyz', replicas: ['replica-host-9'], pin: '42' },
      }),
    );
    const logs = captureLogs();
    const logger = createLogger({ service: 't', destination: logs });
    const store = createSecretStore({
      env: { DB_SECRET: JSON.stringify({ username: 'app', password: 'env-Pa55word-xyz', pin: '1234' }) },
      cwd: dir,
      secrets: { DB: 'env:DB_SECRET', FILE_DB: 'file:app.json#db' },
      logger,
    });
    await store.load();
    const db = store.getJson<{ username: string; password: string }>('DB');
    const fileDb = store.getJson<{ password: string; replicas: string[] }>('FILE_DB');

    for (const [password, host] of [
      [db.password, 'db'],
      [fileDb.password, fileDb.replicas[0]],
    ]) {
      logger.info(`connecting to ${host} with ${password}`);
      logger.info({ config: db, file: fileDb }, 'config');
      logger.error({ err: new Error(`password authentication failed (pw ${password})`) }, 'pool error');
    }

    const text = JSON.stringify(logs.lines);
    expect(text).not.toMatch(/Pa55word|replica-host-9/);
    expect(logs.find('config')[0]).toMatchObject({
      config: { username: 'app', password: '[REDACTED]', pin: '1234' },
      file: { username: 'ro', password: '[REDACTED]', replicas: ['[REDACTED]'], pin: '42' },
    });
    const errors = logs.find('pool error').map((l) => l.err as { message: string; stack: string });
    expect(errors.map((e) => e.message)).toEqual([
      'password authentication failed (pw [REDACTED])',
      'password authentication failed (pw [REDACTED])',
    ]);
    for (const error of errors) expect(error.stack).toContain('(pw [REDACTED])');
    // The short fields are named once (info), their values never.
    const short = logs.lines.filter((l) => String(l.msg).includes('JSON fields shorter than'));
    expect(short.map((l) => [l.reference, l.fields])).toEqual([
      ['env:DB_SECRET', ['pin']],
      ['file:app.json#db', ['pin']],
    ]);
  });
});
