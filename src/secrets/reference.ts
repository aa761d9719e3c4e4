import { SecretReferenceError } from '../errors.js';

/** A parsed secret reference: where a value comes from. */
export type SecretReference =
  | {
      readonly kind: 'secretsmanager';
      readonly raw: string;
      /** Name or full ARN, as `GetSecretValue` takes it. */
      readonly secretId: string;
      /** Key to select from a JSON `SecretString`. */
      readonly jsonKey: string | undefined;
      readonly versionStage: string | undefined;
      readonly versionId: string | undefined;
      /** Region of an ARN; `undefined` for the SDK's default region. */
      readonly region: string | undefined;
    }
  | {
      readonly kind: 'ssm';
      readonly raw: string;
      /** Parameter name (`/app/prod/db-password`). */
      readonly name: string;
      readonly region: string | undefined;
      /**
       * The full ARN, when the reference is one: what the parameter is asked for by (a parameter
       * shared from another account is found only by its ARN).
       */
      readonly arn?: string | undefined;
    }
  | { readonly kind: 'env'; readonly raw: string; readonly name: string }
  | {
      readonly kind: 'file';
      readonly raw: string;
      readonly path: string;
      /** Key to select from a JSON or dotenv file; the whole file when absent. */
      readonly key: string | undefined;
    }
  | { readonly kind: 'custom'; readonly raw: string; readonly scheme: string; readonly path: string };

const maxReferenceLength = 2048;
const region = '[a-z]{2}(?:-[a-z]+)+-\\d';
const partition = 'aws(?:-cn|-us-gov|-iso(?:-[a-z])?)?';
// arn:aws:secretsmanager:us-east-1:123456789012:secret:name-AbCdEf[:jsonKey:versionStage:versionId]
const secretArn = new RegExp(
  `^(arn:${partition}:secretsmanager:(${region}):(\\d{12}):secret:([^:]+))(?::([^:]*)(?::([^:]*)(?::([^:]*))?)?)?$`,
);
// arn:aws:ssm:us-east-1:123456789012:parameter/app/prod/name
const parameterArn = new RegExp(`^arn:${partition}:ssm:(${region}):(\\d{12}):parameter(/.+)$`);
/** An environment variable name (`env:NAME`, and a secret's name when it is exported to the environment). */
export const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;
// A name, and optionally the selector SSM takes after it: a version (`:3`) or a label (`:prod`).
const parameterName = /^\/?[\w.\-/]{1,2047}(?::(?:\d{1,10}|[A-Za-z][\w.-]{0,99}))?$/;
const versionStage = /^[\w-]{1,256}$/;
/** The scheme of a custom provider (`vault:`). */
export const customScheme = /^[a-z][a-z0-9+.-]{0,31}$/;

function fail(raw: string, why: string): never {
  throw new SecretReferenceError(raw, why);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function parseSecretsManagerShort(raw: string, rest: string): SecretReference {
  // secretsmanager:<id>[?versionStage=…|versionId=…][#jsonKey]
  const hash = rest.indexOf('#');
  const beforeHash = hash === -1 ? rest : rest.slice(0, hash);
  const jsonKey = hash === -1 ? undefined : rest.slice(hash + 1);
  if (jsonKey === '') fail(raw, 'the JSON key after "#" is empty');
  const question = beforeHash.indexOf('?');
  const secretId = question === -1 ? beforeHash : beforeHash.slice(0, question);
  let stage: string | undefined;
  let id: string | undefined;
  if (question !== -1) {
    for (const pair of beforeHash.slice(question + 1).split('&')) {
      const [key, value = ''] = pair.split('=', 2);
      if (key === 'versionStage' && versionStage.test(value)) stage = value;
      else if (key === 'versionId' && versionStage.test(value)) id = value;
      else fail(raw, `"${pair}" is not versionStage=<stage> or versionId=<id>`);
    }
  }
  if (secretId === '') fail(raw, 'the secret name is empty');
  if (secretId.startsWith('arn:')) return parseSecretArn(raw, secretId, jsonKey, stage, id);
  if (!/^[\w/+=.@!-]{1,512}$/.test(secretId)) fail(raw, `"${secretId}" is not a valid secret name`);
  return {
    kind: 'secretsmanager',
    raw,
    secretId,
    jsonKey,
    versionStage: stage,
    versionId: id,
    region: undefined,
  };
}

function parseSecretArn(
  raw: string,
  arn: string,
  jsonKey?: string,
  stage?: string,
  id?: string,
): SecretReference {
  const match = secretArn.exec(arn);
  if (match === null) {
    fail(raw, 'it is not a Secrets Manager ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)');
  }
  // App Runner and ECS write arn:…:secret:<name>:<jsonKey>:<versionStage>:<versionId>, any part empty.
  return {
    kind: 'secretsmanager',
    raw,
    secretId: match[1]!,
    jsonKey: jsonKey ?? nonEmpty(match[5]),
    versionStage: stage ?? nonEmpty(match[6]),
    versionId: id ?? nonEmpty(match[7]),
    region: match[2]!,
  };
}

/**
 * Parses a secret reference:
 * `secretsmanager:<name>`, `secretsmanager:<name>#<jsonKey>`,
 * `secretsmanager:<name>?versionStage=AWSPREVIOUS#<jsonKey>`, a Secrets Manager ARN (also App
 * Runner's `arn:…:secret:<name>:<jsonKey>::` form), `ssm:/path/name`, an SSM parameter ARN,
 * `env:NAME`, `file:/path` or `file:/path#key`, or `<scheme>:<path>` for a registered custom
 * provider.
 *
 * @throws SecretReferenceError (`ARK_SECRET_REFERENCE_INVALID`) quoting the reference and saying what
 * is wrong.
 */
export function parseSecretReference(input: string, customSchemes: readonly string[] = []): SecretReference {
  if (typeof input !== 'string')
    fail(String(input), 'a reference is a string such as "ssm:/app/db-password"');
  const raw = input.trim();
  if (raw === '') fail(input, 'the reference is empty');
  if (raw.length > maxReferenceLength)
    fail(`${raw.slice(0, 60)}…`, `it is longer than ${maxReferenceLength} characters`);
  if (raw.startsWith('arn:')) {
    if (/^arn:[^:]+:ssm:/.test(raw)) {
      const match = parameterArn.exec(raw);
      if (match === null)
        fail(raw, 'it is not an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/<name>)');
      return { kind: 'ssm', raw, name: match[3]!, region: match[1]!, arn: raw };
    }
    if (/^arn:[^:]+:secretsmanager:/.test(raw)) return parseSecretArn(raw, raw);
    fail(raw, 'only Secrets Manager and SSM Parameter Store ARNs are supported');
  }
  const colon = raw.indexOf(':');
  if (colon <= 0) fail(raw, 'it has no scheme: write ssm:, secretsmanager:, env: or file: before the name');
  const scheme = raw.slice(0, colon);
  const rest = raw.slice(colon + 1);
  switch (scheme) {
    case 'secretsmanager':
      return parseSecretsManagerShort(raw, rest);
    case 'ssm':
      if (!parameterName.test(rest)) fail(raw, `"${rest}" is not a valid parameter name`);
      return { kind: 'ssm', raw, name: rest, region: undefined };
    case 'env':
      if (!envName.test(rest)) fail(raw, `"${rest}" is not an environment variable name`);
      return { kind: 'env', raw, name: rest };
    case 'file': {
      const hash = rest.indexOf('#');
      const path = hash === -1 ? rest : rest.slice(0, hash);
      const key = hash === -1 ? undefined : rest.slice(hash + 1);
      if (path === '') fail(raw, 'the file path is empty');
      if (key === '') fail(raw, 'the key after "#" is empty');
      return { kind: 'file', raw, path, key };
    }
    default:
      if (customSchemes.includes(scheme) && customScheme.test(scheme)) {
        if (rest === '') fail(raw, 'the path after the scheme is empty');
        return { kind: 'custom', raw, scheme, path: rest };
      }
      fail(
        raw,
        `the scheme "${scheme}" is unknown: use ssm:, secretsmanager:, env:, file:, an ARN${
          customSchemes.length > 0
            ? `, or one of ${customSchemes.map((s) => `${s}:`).join(', ')}`
            : ', or register a custom provider'
        }`,
      );
  }
}
