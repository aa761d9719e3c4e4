import { SecretTransformError } from '../../errors.js';
import type { FetchedSecret, SecretProvider } from '../provider.js';
import type { SecretReference } from '../reference.js';
import { type AwsProviderOptions, awsService } from './aws-client.js';
import { wrapAwsError } from './aws-errors.js';

export type { AwsClientLike } from './aws-client.js';

/** Options of {@link secretsManagerProvider}. */
export type SecretsManagerProviderOptions = AwsProviderOptions;

interface SecretValueOutput {
  readonly SecretString?: string;
  readonly SecretBinary?: Uint8Array;
  readonly VersionId?: string;
}

type Sdk = typeof import('@aws-sdk/client-secrets-manager');

/** Selects `key` from a JSON secret; non-string values come back as JSON. */
export function selectJsonKey(reference: string, text: string, key: string): string {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new SecretTransformError(
      `${reference}: the secret is not JSON, so its key "${key}" cannot be selected.`,
      {
        cause: error,
      },
    );
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new SecretTransformError(
      `${reference}: the secret is JSON but not an object, so it has no key "${key}".`,
    );
  }
  const value = (document as Record<string, unknown>)[key];
  if (value === undefined) {
    throw new SecretTransformError(
      `${reference}: the secret has no key "${key}" (its keys: ${Object.keys(document).join(', ') || 'none'}).`,
    );
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

type SecretsManagerReference = SecretReference & { kind: 'secretsmanager' };

/** The value `reference` selects from the output of its secret's `GetSecretValue`. */
function toFetched(reference: SecretsManagerReference, output: SecretValueOutput): FetchedSecret {
  const version = output.VersionId === undefined ? {} : { version: output.VersionId };
  if (output.SecretString !== undefined) {
    const value =
      reference.jsonKey === undefined
        ? output.SecretString
        : selectJsonKey(reference.raw, output.SecretString, reference.jsonKey);
    return { value, sensitive: true, ...version };
  }
  if (output.SecretBinary !== undefined) {
    if (reference.jsonKey !== undefined) {
      throw new SecretTransformError(
        `${reference.raw}: the secret is binary, so it has no JSON key to select.`,
      );
    }
    return {
      value: Buffer.from(output.SecretBinary).toString('base64'),
      binary: true,
      sensitive: true,
      ...version,
    };
  }
  throw new SecretTransformError(`${reference.raw}: the secret has neither SecretString nor SecretBinary.`);
}

/**
 * `secretsmanager:` references and Secrets Manager ARNs, through `@aws-sdk/client-secrets-manager`
 * (an optional peer, imported on first use). References to one secret (its JSON keys) share one
 * `GetSecretValue` call when they are fetched together (`fetchMany`: the start-up load, and refreshes
 * that fall due together) or concurrently, and so read one version of it: a username and a password
 * rotated together are never served from two versions.
 */
export function secretsManagerProvider(options: SecretsManagerProviderOptions): SecretProvider {
  const service = awsService<Sdk>({
    feature: 'A secretsmanager: secret reference',
    load: () => import('@aws-sdk/client-secrets-manager'),
    construct: (sdk, config) => new sdk.SecretsManagerClient(config),
    settings: options.settings,
    client: options.client,
    onClient: options.onClient,
  });
  const inflight = new Map<string, Promise<SecretValueOutput>>();

  const read = (reference: SecretsManagerReference, signal: AbortSignal) => {
    // References with the same key share one call.
    const key = [reference.region, reference.secretId, reference.versionStage, reference.versionId].join('|');
    let pending = inflight.get(key);
    if (pending === undefined) {
      pending = service.send(
        reference.region,
        (sdk) =>
          new sdk.GetSecretValueCommand({
            SecretId: reference.secretId,
            ...(reference.versionStage === undefined ? {} : { VersionStage: reference.versionStage }),
            ...(reference.versionId === undefined ? {} : { VersionId: reference.versionId }),
          }),
        signal,
      ) as Promise<SecretValueOutput>;
      inflight.set(key, pending);
      const forget = () => inflight.delete(key);
      pending.then(forget, forget);
    }
    return pending;
  };

  const fetch = async (reference: SecretReference, signal: AbortSignal): Promise<FetchedSecret> => {
    if (reference.kind !== 'secretsmanager') throw new TypeError(`cannot fetch ${reference.raw}`);
    let output: SecretValueOutput;
    try {
      output = await read(reference, signal);
    } catch (error) {
      throw wrapAwsError(error, reference.raw, 'secretsmanager');
    }
    return toFetched(reference, output);
  };

  return {
    fetch,
    async fetchMany(references, signal) {
      // Each reference through fetch: those of one secret join one call (read's single flight), and
      // each keeps its own outcome (a key missing from the secret fails that reference alone).
      const results = new Map<SecretReference, FetchedSecret | Error>();
      await Promise.all(
        references.map((reference) =>
          fetch(reference, signal).then(
            (fetched) => results.set(reference, fetched),
            (error: unknown) =>
              results.set(reference, error instanceof Error ? error : new Error(String(error))),
          ),
        ),
      );
      return results;
    },
  };
}
