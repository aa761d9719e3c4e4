import { describe, expect, it } from 'vitest';
import { SecretReferenceError } from '../../../src/errors.js';
import { parseSecretReference } from '../../../src/secrets/reference.js';

const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf';

describe('parseSecretReference', () => {
  it.each([
    [
      'secretsmanager:prod/db',
      { kind: 'secretsmanager', secretId: 'prod/db', jsonKey: undefined, region: undefined },
    ],
    ['secretsmanager:prod/db#password', { secretId: 'prod/db', jsonKey: 'password' }],
    [
      'secretsmanager:prod/db?versionStage=AWSPREVIOUS#password',
      { secretId: 'prod/db', versionStage: 'AWSPREVIOUS', jsonKey: 'password' },
    ],
    ['secretsmanager:prod/db?versionId=v-123', { secretId: 'prod/db', versionId: 'v-123' }],
    [arn, { kind: 'secretsmanager', secretId: arn, region: 'eu-west-1', jsonKey: undefined }],
    [
      `${arn}:password::`,
      { secretId: arn, jsonKey: 'password', versionStage: undefined, versionId: undefined },
    ],
    [`${arn}:password:AWSPREVIOUS:`, { secretId: arn, jsonKey: 'password', versionStage: 'AWSPREVIOUS' }],
    [
      `${arn}::AWSCURRENT:v1`,
      { secretId: arn, jsonKey: undefined, versionStage: 'AWSCURRENT', versionId: 'v1' },
    ],
    [`secretsmanager:${arn}#user`, { secretId: arn, jsonKey: 'user', region: 'eu-west-1' }],
    ['ssm:/app/prod/db-password', { kind: 'ssm', name: '/app/prod/db-password', region: undefined }],
    ['ssm:/app/db:3', { kind: 'ssm', name: '/app/db:3' }],
    ['ssm:/app/db:stable-1', { kind: 'ssm', name: '/app/db:stable-1' }],
    ['ssm:plain-name', { kind: 'ssm', name: 'plain-name' }],
    [
      'arn:aws:ssm:us-west-2:123456789012:parameter/app/key',
      {
        kind: 'ssm',
        name: '/app/key',
        region: 'us-west-2',
        arn: 'arn:aws:ssm:us-west-2:123456789012:parameter/app/key',
      },
    ],
    ['env:DB_PASSWORD', { kind: 'env', name: 'DB_PASSWORD' }],
    ['file:./secrets.json#db', { kind: 'file', path: './secrets.json', key: 'db' }],
    ['file:/run/secrets/token', { kind: 'file', path: '/run/secrets/token', key: undefined }],
    ['  ssm:/trimmed  ', { kind: 'ssm', name: '/trimmed', raw: 'ssm:/trimmed' }],
  ])('reads %s', (input, expected) => {
    expect(parseSecretReference(input)).toMatchObject(expected);
  });

  it('reads a custom scheme only when a provider is registered for it', () => {
    expect(parseSecretReference('vault:kv/app/token', ['vault'])).toMatchObject({
      kind: 'custom',
      scheme: 'vault',
      path: 'kv/app/token',
    });
    expect(() => parseSecretReference('vault:kv/app/token')).toThrow(/scheme "vault" is unknown/);
  });

  it.each([
    ['', 'empty'],
    ['prod/db', 'no scheme'],
    ['secret:prod/db', 'scheme "secret" is unknown'],
    ['secretsmanager:', 'name is empty'],
    ['secretsmanager:prod/db#', 'JSON key after "#" is empty'],
    ['secretsmanager:prod/db?stage=x', 'versionStage=<stage>'],
    ['secretsmanager:bad name', 'not a valid secret name'],
    ['arn:aws:secretsmanager:eu-west-1:123:secret:x', 'not a Secrets Manager ARN'],
    ['arn:aws:ssm:eu-west-1:123456789012:document/x', 'not an SSM parameter ARN'],
    ['arn:aws:s3:::bucket/key', 'only Secrets Manager and SSM'],
    ['ssm:', 'not a valid parameter name'],
    ['ssm:/a b', 'not a valid parameter name'],
    ['ssm:/a:', 'not a valid parameter name'],
    ['ssm:/a:1:2', 'not a valid parameter name'],
    ['ssm:/a:9label', 'not a valid parameter name'],
    ['env:1BAD', 'not an environment variable name'],
    ['file:', 'file path is empty'],
    ['file:/x#', 'key after "#" is empty'],
    [`ssm:/${'a'.repeat(3000)}`, 'longer than 2048'],
  ])('rejects %j quoting it (%s)', (input, why) => {
    let error: unknown;
    try {
      parseSecretReference(input);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SecretReferenceError);
    expect((error as Error).message).toContain(why);
    if (input.length < 100 && input.trim() !== '')
      expect((error as Error).message).toContain(`"${input.trim()}"`);
  });
});
