import { invalid, parseBoolean, parseInteger, parseSection } from '../config/parse.js';
import type { SecretProvider } from './provider.js';
import type { AwsClientLike } from './providers/aws-client.js';
import { customScheme, envName } from './reference.js';

/** One entry of `secrets`: a reference, or a reference with options. */
export type SecretDeclaration =
  | string
  | {
      /** The reference (`secretsmanager:prod/db#password`, `ssm:/app/key`, an ARN, `env:`, `file:`). */
      ref: string;
      /** Time the value is fresh; `secretOptions.ttlMs` when absent (at least 1000). */
      ttlMs?: number;
      /**
       * Start even when it cannot be loaded (logged); `get` then throws until it is.
       * @default false
       */
      optional?: boolean;
    };

/** Options of the secret store (`secretOptions` of {@link bootstrapAppRunner}). */
export interface SecretOptions {
  /**
   * Time a value is fresh; then the next access returns it and refreshes it in the background.
   * @default 300000 (5 minutes)
   */
  ttlMs?: number;
  /**
   * Bound on loading every declared secret before the server listens.
   * @default 10000
   */
  startupTimeoutMs?: number;
  /**
   * Bound on one background refresh or `resolve()`.
   * @default 10000
   */
  fetchTimeoutMs?: number;
  /**
   * Most cached values (declared ones are never evicted).
   * @default 1000
   */
  maxEntries?: number;
  /**
   * Also set each declared secret as an environment variable of that name, for code that reads
   * `process.env` (which then does not see rotations).
   * @default false
   */
  exportToEnv?: boolean;
  /** Providers for custom schemes: `{ vault: myProvider }` serves `vault:` references. */
  providers?: Record<string, SecretProvider>;
  /** AWS SDK v3 clients of your own (a `SecretsManagerClient`, an `SSMClient`), used for every call. */
  clients?: { secretsManager?: AwsClientLike; ssm?: AwsClientLike };
  /** Timeouts and retries of the AWS clients the kit builds. */
  aws?: {
    /** @default 1000 */
    connectTimeoutMs?: number;
    /** @default 3000 */
    requestTimeoutMs?: number;
    /** Attempts per call, the first included. @default 3 */
    maxAttempts?: number;
  };
}

/** The validated settings. */
export interface SecretSettings {
  readonly ttlMs: number;
  readonly startupTimeoutMs: number;
  readonly fetchTimeoutMs: number;
  readonly maxEntries: number;
  readonly exportToEnv: boolean;
  readonly providers: Readonly<Record<string, SecretProvider>>;
  readonly clients: { readonly secretsManager?: AwsClientLike; readonly ssm?: AwsClientLike };
  readonly aws: {
    readonly connectTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly maxAttempts: number;
  };
}

/** A declaration, validated. */
export interface NormalisedDeclaration {
  readonly name: string;
  readonly ref: string;
  readonly ttlMs: number | undefined;
  readonly optional: boolean;
}

const reservedSchemes = ['ssm', 'secretsmanager', 'env', 'file', 'arn'];

/** Validates `secretOptions`. @throws ConfigurationError (`ARK_CONFIG_INVALID`) */
export function parseSecretOptions(value: unknown): SecretSettings {
  const options = parseSection('secretOptions', value, [
    'ttlMs',
    'startupTimeoutMs',
    'fetchTimeoutMs',
    'maxEntries',
    'exportToEnv',
    'providers',
    'clients',
    'aws',
  ]);
  const aws = parseSection('secretOptions.aws', options.aws, [
    'connectTimeoutMs',
    'requestTimeoutMs',
    'maxAttempts',
  ]);
  const clients = parseSection('secretOptions.clients', options.clients, ['secretsManager', 'ssm']);
  for (const [name, client] of Object.entries(clients)) {
    if (typeof (client as { send?: unknown } | undefined)?.send !== 'function') {
      invalid(`secretOptions.clients.${name}`, client, 'an AWS SDK v3 client (with a send method)');
    }
  }
  const providers = (options.providers ?? {}) as Record<string, unknown>;
  if (typeof providers !== 'object' || providers === null || Array.isArray(providers)) {
    invalid('secretOptions.providers', providers, 'an object of scheme → provider');
  }
  for (const [scheme, provider] of Object.entries(providers)) {
    if (!customScheme.test(scheme) || reservedSchemes.includes(scheme)) {
      invalid(
        `secretOptions.providers.${scheme}`,
        scheme,
        `a lower-case scheme name other than ${reservedSchemes.join(', ')}`,
      );
    }
    if (typeof (provider as { fetch?: unknown } | undefined)?.fetch !== 'function') {
      invalid(
        `secretOptions.providers.${scheme}`,
        provider,
        'a provider with a fetch(reference, signal) method',
      );
    }
  }
  const integer = (field: string, v: unknown, fallback: number, min: number, max: number) =>
    v === undefined ? fallback : parseInteger(field, v, min, max);
  return Object.freeze({
    ttlMs: integer('secretOptions.ttlMs', options.ttlMs, 300_000, 1_000, 86_400_000),
    startupTimeoutMs: integer(
      'secretOptions.startupTimeoutMs',
      options.startupTimeoutMs,
      10_000,
      100,
      300_000,
    ),
    fetchTimeoutMs: integer('secretOptions.fetchTimeoutMs', options.fetchTimeoutMs, 10_000, 100, 300_000),
    maxEntries: integer('secretOptions.maxEntries', options.maxEntries, 1_000, 1, 1_000_000),
    exportToEnv:
      options.exportToEnv === undefined
        ? false
        : parseBoolean('secretOptions.exportToEnv', options.exportToEnv),
    providers: Object.freeze({ ...(providers as Record<string, SecretProvider>) }),
    clients: Object.freeze({ ...(clients as SecretSettings['clients']) }),
    aws: Object.freeze({
      connectTimeoutMs: integer(
        'secretOptions.aws.connectTimeoutMs',
        aws.connectTimeoutMs,
        1_000,
        10,
        60_000,
      ),
      requestTimeoutMs: integer(
        'secretOptions.aws.requestTimeoutMs',
        aws.requestTimeoutMs,
        3_000,
        10,
        300_000,
      ),
      maxAttempts: integer('secretOptions.aws.maxAttempts', aws.maxAttempts, 3, 1, 10),
    }),
  });
}

/** Validates the `secrets` map. @throws ConfigurationError (`ARK_CONFIG_INVALID`) */
export function parseSecretDeclarations(value: unknown, exportToEnv: boolean): NormalisedDeclaration[] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid(
      'secrets',
      value,
      'an object of NAME → reference, such as { DB_PASSWORD: "secretsmanager:prod/db#password" }',
    );
  }
  return Object.entries(value as Record<string, unknown>).map(([name, declaration]) => {
    const field = `secrets.${name}`;
    if (name.trim() === '' || (exportToEnv && !envName.test(name))) {
      invalid(
        field,
        name,
        exportToEnv ? 'an environment variable name (exportToEnv is on)' : 'a non-empty name',
      );
    }
    if (typeof declaration === 'string') return { name, ref: declaration, ttlMs: undefined, optional: false };
    if (typeof declaration !== 'object' || declaration === null || Array.isArray(declaration)) {
      invalid(field, declaration, 'a reference string or { ref, ttlMs?, optional? }');
    }
    const entry = parseSection(field, declaration, ['ref', 'ttlMs', 'optional']);
    if (typeof entry.ref !== 'string') invalid(`${field}.ref`, entry.ref, 'a reference string');
    return {
      name,
      ref: entry.ref,
      ttlMs:
        entry.ttlMs === undefined
          ? undefined
          : parseInteger(`${field}.ttlMs`, entry.ttlMs, 1_000, 86_400_000),
      optional: entry.optional === undefined ? false : parseBoolean(`${field}.optional`, entry.optional),
    };
  });
}
