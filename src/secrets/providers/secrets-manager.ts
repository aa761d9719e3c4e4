import { SecretTransformError } from '../../errors.js';
import { jsonErrorWithoutContent } from '../json-error.js';
import type { FetchedSecret, SecretProvider } from '../provider.js';
import type { SecretReference } from '../reference.js';
import { type AwsProviderOptions, awsService } from './aws-client.js';
import { wrapAwsError } from './aws-errors.js';

export type { AwsClientLike } from './aws-client.js';

/** Options of {@link secretsManagerProvider}. */
export type SecretsManagerProviderOptions = AwsProviderOptions;

/** The Secrets Manager provider, which can let go of the clients it built. */
export interface SecretsManagerProvider extends SecretProvider {
  /** Destroys the AWS clients the provider built (never a client it was given), once their calls settle. */
  close(): Promise<void>;
}

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
      { cause: jsonErrorWithoutContent(error) },
    );
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new SecretTransformError(
      `${reference}: the secret is JSON but not an object, so it has no key "${key}".`,
    );
  }
  // Its own keys only: "constructor" or "toString" are no keys of a secret.
  const value = Object.hasOwn(document, key) ? (document as Record<string, unknown>)[key] : undefined;
  if (value === undefined) {
    throw new SecretTransformError(
      `${reference}: the secret has no key "${key}" (its keys: ${Object.keys(document).join(', ') || 'none'}).`,
    );
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The `GetSecretValue` call that answers `reference`: its secret, version and region. */
function callKey(reference: SecretReference & { kind: 'secretsmanager' }): string {
  return [reference.region, reference.secretId, reference.versionStage, reference.versionId].join('|');
}

/**
 * `secretsmanager:` references and Secrets Manager ARNs, through `@aws-sdk/client-secrets-manager`
 * (an optional peer, imported on first use). Concurrent reads of one secret — two JSON keys of the
 * same secret at start-up — share one `GetSecretValue` call, and the cache refreshes the keys of one
 * secret together (`callKey`), so that they come from one version.
 */
export function secretsManagerProvider(options: SecretsManagerProviderOptions): SecretsManagerProvider {
  const service = awsService<Sdk>({
    feature: 'A secretsmanager: secret reference',
    load: () => import('@aws-sdk/client-secrets-manager'),
    construct: (sdk, config) => new sdk.SecretsManagerClient(config),
    settings: options.settings,
    client: options.client,
    onClient: options.onClient,
    region: options.region,
    credentials: options.credentials,
  });
  const inflight = new Map<string, Promise<SecretValueOutput>>();

  const read = (reference: SecretReference & { kind: 'secretsmanager' }, signal: AbortSignal) => {
    const key = callKey(reference);
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

  return {
    close: () => service.close(),

    callKey: (reference) => (reference.kind === 'secretsmanager' ? callKey(reference) : undefined),

    async fetch(reference: SecretReference, signal: AbortSignal): Promise<FetchedSecret> {
      if (reference.kind !== 'secretsmanager') throw new TypeError(`cannot fetch ${reference.raw}`);
      let output: SecretValueOutput;
      try {
        output = await read(reference, signal);
      } catch (error) {
        throw wrapAwsError(error, reference.raw, 'secretsmanager');
      }
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
      throw new SecretTransformError(
        `${reference.raw}: the secret has neither SecretString nor SecretBinary.`,
      );
    },
  };
}
