import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import {
  type AppRunnerKitError,
  SecretAccessDeniedError,
  SecretFetchError,
  SecretNotDeclaredError,
  SecretNotFoundError,
  SecretReferenceError,
  SecretsStartupError,
  SecretTimeoutError,
  SecretTransformError,
} from '../errors.js';
import { abortAfter, withTimeout } from '../internal/timers.js';
import { redaction as processRedaction, type RedactionRegistry } from '../logging/redaction.js';
import { jsonErrorWithoutContent } from './json-error.js';
import type { FetchedSecret, SecretProvider } from './provider.js';
import type { AwsClientHook } from './providers/aws-client.js';
import { envProvider } from './providers/env.js';
import { fileProvider } from './providers/file.js';
import { type SecretsManagerProvider, secretsManagerProvider } from './providers/secrets-manager.js';
import { type SsmProvider, ssmProvider } from './providers/ssm.js';
import { parseSecretReference, type SecretReference } from './reference.js';
import { SecretCache, type SecretEntryInfo, toSecretError } from './secret-cache.js';
import {
  type NormalisedDeclaration,
  parseSecretDeclarations,
  parseSecretOptions,
  type SecretDeclaration,
  type SecretOptions,
  type SecretSettings,
} from './settings.js';
import { fetchManyRetrying, isThrottling, isTransient, retryTransient } from './throttling.js';

/** Options of {@link createSecretStore}. */
export interface SecretStoreOptions {
  /** Secrets to load with `load()` and read with `get(name)`: NAME → reference. */
  secrets?: Record<string, SecretDeclaration> | undefined;
  /** Cache, start-up, AWS client and provider options. */
  options?: SecretOptions | undefined;
  /**
   * The environment `env:` references read, and the region of an AWS reference that names none:
   * `AWS_REGION`, else `AWS_DEFAULT_REGION` (which the AWS SDK alone does not read).
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative `file:` paths start from. @default process.cwd() */
  cwd?: string;
  /** Logger for refresh failures and rotations (never values). */
  logger?: Logger;
  /** Called with each AWS client the store builds (tracing instruments it). */
  onAwsClient?: AwsClientHook;
  /** Registry that masks loaded values in logs. @default the process-wide registry */
  redaction?: RedactionRegistry;
}

interface Declared extends NormalisedDeclaration {
  readonly reference: SecretReference;
}

/**
 * One line per reason, naming the secrets it stopped: `  - DB_PASSWORD (secretsmanager:prod/db) and
 * API_KEY (ssm:/api-key): no AWS credentials (…). Give the app a role: …`. Every secret of a laptop
 * without credentials fails for the same reason, whose fix was repeated on a line each.
 */
function failureLines(failures: readonly { declared: Declared; error: AppRunnerKitError }[]): string[] {
  const byReason = new Map<string, string[]>();
  for (const { declared, error } of failures) {
    const prefix = `${declared.reference.raw}: `;
    const named = error.message.startsWith(prefix);
    const reason = named ? error.message.slice(prefix.length) : error.message;
    const secret = named ? `${declared.name} (${declared.reference.raw})` : declared.name;
    byReason.set(reason, [...(byReason.get(reason) ?? []), secret]);
  }
  return [...byReason].map(([reason, secrets]) => {
    const names =
      secrets.length === 1 ? secrets[0] : `${secrets.slice(0, -1).join(', ')} and ${secrets.at(-1)}`;
    return `  - ${names}: ${reason}`;
  });
}

/** A start-up failure that throttling caused, with the start-up fixes added to its message. */
function throttledAtStart(error: AppRunnerKitError): AppRunnerKitError {
  if (!isThrottling(error) || !(error instanceof SecretFetchError)) return error;
  return new SecretFetchError(
    `${error.message} Start-up retries ran out of budget: raise secretOptions.startupTimeoutMs so that they outlast the burst, or stagger the deployment.`,
    { reference: error.reference, awsCode: error.awsCode, cause: error },
  );
}

/**
 * Secrets and parameters, loaded once and kept fresh (`runtime.secrets`). Declared names are read
 * synchronously with {@link SecretStore.get}; when a value is past its TTL, `get` returns it and
 * refreshes it in the background. Any reference can be read with {@link SecretStore.resolve}.
 *
 * @example
 * ```ts
 * const runtime = await bootstrapAppRunner({
 *   app,
 *   secrets: { DB_PASSWORD: 'secretsmanager:prod/db#password', API_KEY: 'ssm:/notes/api-key' },
 * });
 * const pool = new pg.Pool({ password: () => runtime.secrets.get('DB_PASSWORD') }); // rotation-proof
 * ```
 */
export class SecretStore {
  readonly #settings: SecretSettings;
  readonly #declared = new Map<string, Declared>();
  readonly #cache: SecretCache;
  readonly #providers: Record<string, SecretProvider>;
  readonly #ssm: SsmProvider;
  readonly #secretsManager: SecretsManagerProvider;
  #closed: Promise<void> | undefined;
  readonly #logger: Logger | undefined;
  readonly #customSchemes: readonly string[];

  constructor(options: SecretStoreOptions = {}) {
    const settings = parseSecretOptions(options.options);
    this.#settings = settings;
    this.#logger = options.logger;
    this.#customSchemes = Object.keys(settings.providers);
    const env = options.env ?? process.env;
    const awsOptions = {
      settings: settings.aws,
      onClient: options.onAwsClient,
      region: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION),
      credentials: { providers: new Map() },
    };
    this.#ssm = ssmProvider({ ...awsOptions, client: settings.clients.ssm });
    this.#secretsManager = secretsManagerProvider({ ...awsOptions, client: settings.clients.secretsManager });
    this.#providers = {
      ...settings.providers,
      secretsmanager: this.#secretsManager,
      ssm: this.#ssm,
      env: envProvider(env),
      file: fileProvider(options.cwd ?? process.cwd()),
    };
    for (const declaration of parseSecretDeclarations(options.secrets, settings.exportToEnv)) {
      let reference: SecretReference;
      try {
        reference = parseSecretReference(declaration.ref, this.#customSchemes);
      } catch (error) {
        (error as Error).message = `secrets.${declaration.name}: ${(error as Error).message}`;
        throw error;
      }
      this.#declared.set(declaration.name, { ...declaration, reference });
    }
    this.#cache = new SecretCache(
      {
        ttlMs: settings.ttlMs,
        maxEntries: Math.max(settings.maxEntries, this.#declared.size),
        backoffBaseMs: 1_000,
        backoffMaxMs: Math.min(300_000, settings.ttlMs),
        fetchTimeoutMs: settings.fetchTimeoutMs,
      },
      (reference) => this.#providerFor(reference),
      options.redaction ?? processRedaction,
      options.logger,
    );
  }

  /** The declared names. */
  get names(): string[] {
    return [...this.#declared.keys()];
  }

  /**
   * Loads every declared secret — SSM parameters in `GetParameters` batches of 10, the rest in
   * parallel — within `startupTimeoutMs`; a call AWS throttles, or that meets a server error or a
   * failed connection, is retried with full-jitter backoff while the budget lasts (a fleet starting
   * together shares one request quota). A required one that fails stops the start with one error
   * listing every failure and its fix; an optional one is logged.
   *
   * @throws SecretsStartupError (`ARK_SECRETS_STARTUP_FAILED`)
   */
  async load(): Promise<void> {
    if (this.#declared.size === 0) return;
    const started = performance.now();
    const references = new Map<string, SecretReference>();
    for (const declared of this.#declared.values())
      references.set(declared.reference.raw, declared.reference);
    // Until each value is in, a read of it waits for the load, and a refresh waits for the load and
    // then sends a call of its own (the load's may have been sent before a rotation).
    const loaded = new Map<string, PromiseWithResolvers<FetchedSecret>>();
    for (const declared of this.#declared.values()) {
      if (loaded.has(declared.reference.raw)) continue;
      const deferred = Promise.withResolvers<FetchedSecret>();
      loaded.set(declared.reference.raw, deferred);
      this.#cache.fetchingElsewhere(declared.reference, deferred.promise, {
        ttlMs: declared.ttlMs,
        pinned: true,
      });
    }
    const results = new Map<string, FetchedSecret | Error>();
    const controller = new AbortController();
    // Every start-up call listens to this one signal: lift the 10-listener warning threshold.
    setMaxListeners(references.size + 10, controller.signal);
    const budget = this.#settings.startupTimeoutMs;
    // A fleet starting together shares one AWS request quota: a throttled call is retried, with
    // full-jitter backoff, for as long as the start-up budget allows; so is one that met a server
    // error or a failed connection (a short outage must not fail every instance starting then).
    let throttledRetries = 0;
    let transientRetries = 0;
    const retrying = {
      signal: controller.signal,
      deadline: started + budget,
      onRetry: (_waitMs: number, error: unknown) => {
        if (isThrottling(error)) throttledRetries++;
        else transientRetries++;
      },
    };
    // The latest outcome of each reference while it is retried: when the budget runs out during a
    // retry, the failure names the throttling rather than only the budget.
    const lastResults = new Map<SecretReference, FetchedSecret | Error>();

    const byProvider = new Map<SecretProvider, SecretReference[]>();
    for (const reference of references.values()) {
      const provider = this.#providerFor(reference);
      byProvider.set(provider, [...(byProvider.get(provider) ?? []), reference]);
    }
    const loading = Promise.all(
      [...byProvider].map(async ([provider, list]) => {
        if (provider.fetchMany !== undefined && list.length > 1) {
          const fetched = await fetchManyRetrying(
            list,
            (pending) => provider.fetchMany!(pending, controller.signal),
            retrying,
            lastResults,
          );
          // IAM denies a whole call that names one parameter the role may not read: each parameter of
          // that batch got the denial. Asked alone, each gets its own answer.
          await Promise.all(
            deniedAsABatch(list, fetched).map(async (reference) => {
              // Until it answers, its outcome is its own call's, not the batch's denial.
              fetched.delete(reference);
              const alone = () =>
                provider.fetch(reference, controller.signal).catch((error: unknown) => {
                  fetched.set(reference, error as Error);
                  throw error;
                });
              fetched.set(reference, await retryTransient(alone, retrying).catch((error: Error) => error));
            }),
          );
          for (const reference of list) {
            results.set(
              reference.raw,
              fetched.get(reference) ??
                new SecretFetchError(`${reference.raw}: no result`, { reference: reference.raw }),
            );
          }
          return;
        }
        await Promise.all(
          groupedByCall(provider, list).map(async (group) => {
            // The references one call answers (the keys of one secret) are fetched, and retried,
            // together: their values then come from one call, and so from one version.
            const fetchGroup = async () => {
              const outcomes = await Promise.allSettled(
                group.map((reference) => provider.fetch(reference, controller.signal)),
              );
              let transient: unknown;
              outcomes.forEach((outcome, index) => {
                const reference = group[index]!;
                if (outcome.status === 'fulfilled') {
                  results.set(reference.raw, outcome.value);
                  return;
                }
                const error = outcome.reason as Error;
                results.set(reference.raw, error);
                lastResults.set(reference, error);
                if (transient === undefined && isTransient(error)) transient = error;
              });
              if (transient !== undefined) throw transient;
            };
            // Each reference's outcome, the last attempt's, is in `results`.
            await retryTransient(fetchGroup, retrying).catch(() => undefined);
          }),
        );
      }),
    );
    // Kept alive: the start waits on it, and a provider that holds no handle must not end the process.
    const outcome = await withTimeout(loading, budget, true);
    if (outcome.outcome === 'timed-out') {
      controller.abort(new DOMException(`secrets start-up budget of ${budget} ms exhausted`, 'TimeoutError'));
    }

    const failures: { declared: Declared; error: AppRunnerKitError }[] = [];
    const jitter = Math.random(); // one draw for the values loaded together: they fall due together
    for (const declared of this.#declared.values()) {
      const result = results.get(declared.reference.raw) ?? lastResults.get(declared.reference);
      const options = { ttlMs: declared.ttlMs, pinned: true };
      if (result !== undefined && !(result instanceof Error)) {
        // Sent when the load began: a value a refresh brought meanwhile is newer, and kept.
        this.#cache.store(declared.reference, result, options, jitter, started);
        loaded.get(declared.reference.raw)?.resolve(result);
        continue;
      }
      const error =
        result === undefined
          ? new SecretTimeoutError(
              `${declared.reference.raw}: not loaded within the start-up budget of ${budget} ms (secretOptions.startupTimeoutMs). ` +
                'With an App Runner VPC connector, outbound traffic to AWS needs a NAT gateway or VPC interface endpoints.',
              { reference: declared.reference.raw },
            )
          : throttledAtStart(toSecretError(declared.reference.raw, result));
      failures.push({ declared, error });
      loaded.get(declared.reference.raw)?.reject(error);
    }

    const required = failures.filter((f) => !f.declared.optional);
    for (const { declared, error } of failures.filter((f) => f.declared.optional)) {
      this.#logger?.warn(
        { err: error, secret: declared.name },
        `optional secret ${declared.name} was not loaded: tried again, with backoff, as it is read`,
      );
      this.#cache.remember(declared.reference, error, { ttlMs: declared.ttlMs, pinned: true });
    }
    if (required.length > 0) {
      throw new SecretsStartupError(
        `${required.length} of ${this.#declared.size} secrets could not be loaded:\n${failureLines(required).join('\n')}`,
        required.map((f) => f.error),
      );
    }
    if (this.#settings.exportToEnv) {
      for (const [name, declared] of this.#declared) {
        const fetched = this.#cache.peek(declared.reference);
        if (fetched !== undefined) process.env[name] = fetched.value;
      }
    }
    this.#logger?.info(
      {
        secrets: this.#declared.size,
        references: references.size,
        failed: failures.length,
        durationMs: Math.round(performance.now() - started),
        ...(throttledRetries > 0 ? { throttledRetries } : {}),
        ...(transientRetries > 0 ? { transientRetries } : {}),
      },
      `loaded ${this.#declared.size - failures.length} of ${this.#declared.size} secrets`,
    );
  }

  /**
   * The value of a declared secret, at once (binary secrets as base64). When it is past its TTL, it
   * is still returned and refreshed in the background; a failed refresh keeps serving it.
   *
   * @throws SecretNotDeclaredError (`ARK_SECRET_NOT_DECLARED`) for a name not declared.
   * @throws SecretNotFoundError (`ARK_SECRET_NOT_FOUND`) for an optional secret that is not loaded.
   */
  get(name: string): string {
    return this.#fetched(name).value;
  }

  /** True when `name` is declared and has a value (an optional secret may not). */
  has(name: string): boolean {
    const declared = this.#declared.get(name);
    return declared !== undefined && this.#cache.peek(declared.reference) !== undefined;
  }

  /**
   * A declared secret parsed as JSON. Each string field of it is masked in logs on its own (parsed
   * once when the value was fetched, not at this call).
   * @throws SecretTransformError (`ARK_SECRET_TRANSFORM_FAILED`) when it is not JSON.
   */
  getJson<T = unknown>(name: string): T {
    const value = this.get(name);
    try {
      return JSON.parse(value) as T;
    } catch (error) {
      throw new SecretTransformError(`secrets.getJson("${name}"): the value is not JSON.`, {
        cause: jsonErrorWithoutContent(error),
      });
    }
  }

  /** A declared secret as bytes: a binary secret decoded, text as UTF-8. */
  getBuffer(name: string): Buffer {
    const fetched = this.#fetched(name);
    return Buffer.from(fetched.value, fetched.binary === true ? 'base64' : 'utf8');
  }

  /**
   * The value of any reference, cached like declared ones (`ttlMs` for this one).
   *
   * @throws SecretReferenceError (`ARK_SECRET_REFERENCE_INVALID`) for a malformed reference.
   * @throws SecretFetchError (`ARK_SECRET_FETCH_FAILED`) and its subclasses when it cannot be loaded.
   */
  async resolve(ref: string, options: { ttlMs?: number } = {}): Promise<string> {
    const reference = parseSecretReference(ref, this.#customSchemes);
    return (await this.#cache.get(reference, { ttlMs: options.ttlMs })).value;
  }

  /**
   * Fetches a declared secret now (say, after a database refused the password: it was rotated),
   * with a call sent after this one: a fetch under way is waited for, not joined. Calls within 1 s of
   * one that fetched share its outcome. Resolves with the new value; rejects when the fetch fails,
   * keeping the old value.
   */
  async refresh(name: string): Promise<string> {
    const declared = this.#declaration(name);
    return (await this.#cache.refresh(declared.reference, { ttlMs: declared.ttlMs, pinned: true })).value;
  }

  /** Marks a declared secret stale: the next `get` returns it and refreshes it in the background. */
  invalidate(name: string): void {
    this.#cache.invalidate(this.#declaration(name).reference);
  }

  /** Version, staleness and failed refreshes of a declared secret (never its value). */
  info(name: string): SecretEntryInfo | undefined {
    return this.#cache.info(this.#declaration(name).reference);
  }

  /**
   * Every SSM parameter under a prefix (`ssm:/notes/prod/`), page by page, as name → value;
   * SecureStrings are masked in logs. Not cached. A page AWS throttles, or that meets a server error
   * or a failed connection, is asked again with full-jitter backoff, within `fetchTimeoutMs`.
   */
  async loadPath(prefix: string, options: { recursive?: boolean } = {}): Promise<Record<string, string>> {
    const reference = parseSecretReference(prefix, this.#customSchemes);
    if (reference.kind !== 'ssm') {
      throw new SecretFetchError(`secrets.loadPath("${prefix}"): only ssm: prefixes can be listed.`, {
        reference: prefix,
      });
    }
    if (reference.name.includes(':')) {
      throw new SecretReferenceError(
        prefix,
        'a prefix takes no version or label (":3", ":stable"): list the path alone',
      );
    }
    const timeout = abortAfter(this.#settings.fetchTimeoutMs);
    // A fleet starting together shares SSM's request quota: a throttled page is asked again, with
    // full-jitter backoff, within the call's bound.
    const deadline = performance.now() + this.#settings.fetchTimeoutMs;
    const retry = <T>(call: () => Promise<T>) => retryTransient(call, { signal: timeout.signal, deadline });
    try {
      const parameters = await this.#ssm.fetchPath(
        reference.name,
        options.recursive ?? true,
        reference.region,
        timeout.signal,
        retry,
      );
      const values: Record<string, string> = {};
      const jitter = Math.random();
      for (const parameter of parameters) {
        values[parameter.name] = parameter.value;
        if (parameter.sensitive)
          this.#cache.store(
            parseSecretReference(`ssm:${parameter.name}`),
            { value: parameter.value, sensitive: true },
            {},
            jitter,
          );
      }
      return values;
    } finally {
      timeout.clear();
    }
  }

  /**
   * Lets go of the AWS clients the store built, closing the sockets they keep alive, each once the
   * calls it has under way (a refresh) settle; a client given in `secretOptions.clients` is left to
   * its owner. The values loaded stay readable; a fetch needed afterwards builds a client for that
   * call alone. The runtime calls it once it stopped; call it when done with a store of
   * {@link createSecretStore}, so that its sockets do not hold the process open. Safe to call twice:
   * the calls share one promise, which rejects with what a client's `destroy()` threw.
   *
   * @example
   * ```ts
   * const store = createSecretStore({ secrets: { DB_URL: 'ssm:/jobs/db-url' } });
   * await store.load();
   * await migrate(store.get('DB_URL'));
   * await store.close();
   * ```
   */
  close(): Promise<void> {
    this.#closed ??= Promise.all([this.#ssm.close(), this.#secretsManager.close()]).then(() => undefined);
    return this.#closed;
  }

  #declaration(name: string): Declared {
    const declared = this.#declared.get(name);
    if (declared === undefined) {
      const known = this.names;
      throw new SecretNotDeclaredError(
        `No secret named "${name}" was declared${known.length > 0 ? ` (declared: ${known.join(', ')})` : ''}. ` +
          'Declare it in bootstrapAppRunner({ secrets }), or read the reference with await secrets.resolve(ref).',
      );
    }
    return declared;
  }

  #fetched(name: string): FetchedSecret {
    const declared = this.#declaration(name);
    const fetched = this.#cache.peek(declared.reference);
    if (fetched === undefined) {
      throw new SecretNotFoundError(
        `Secret ${name} (${declared.reference.raw}) has no value: ${
          declared.optional
            ? 'it is optional and was not loaded'
            : 'the store was not loaded (call load() first)'
        }.`,
        { reference: declared.reference.raw },
      );
    }
    return fetched;
  }

  #providerFor(reference: SecretReference): SecretProvider {
    const scheme = reference.kind === 'custom' ? reference.scheme : reference.kind;
    return this.#providers[scheme]!;
  }
}

/** `value` trimmed, or `undefined` when it is unset or blank (as the kit reads its variables). */
function nonEmpty(value: string | undefined): string | undefined {
  const text = value?.trim();
  return text === undefined || text === '' ? undefined : text;
}

/**
 * A secret store usable without the runtime (a worker, a migration script).
 *
 * @example
 * ```ts
 * const store = createSecretStore({ secrets: { DB_PASSWORD: 'secretsmanager:prod/db#password' } });
 * await store.load();
 * store.get('DB_PASSWORD');
 * ```
 */
export function createSecretStore(options: SecretStoreOptions = {}): SecretStore {
  return new SecretStore(options);
}

/**
 * `list` in groups of the references one call of `provider` answers ({@link SecretProvider.callKey}:
 * the keys of one secret); a reference answered alone is a group of its own.
 */
function groupedByCall(provider: SecretProvider, list: readonly SecretReference[]): SecretReference[][] {
  const byCall = new Map<string, SecretReference[]>();
  const groups: SecretReference[][] = [];
  for (const reference of list) {
    const key = provider.callKey?.(reference);
    const group = key === undefined ? undefined : byCall.get(key);
    if (group !== undefined) {
      group.push(reference);
      continue;
    }
    const created = [reference];
    if (key !== undefined) byCall.set(key, created);
    groups.push(created);
  }
  return groups;
}

/** The references of `list` whose access-denied error came from one call that failed them all. */
function deniedAsABatch(
  list: readonly SecretReference[],
  results: ReadonlyMap<SecretReference, FetchedSecret | Error>,
): SecretReference[] {
  const byCall = new Map<unknown, SecretReference[]>();
  for (const reference of list) {
    const result = results.get(reference);
    if (!(result instanceof SecretAccessDeniedError) || result.cause === undefined) continue;
    const same = byCall.get(result.cause);
    if (same === undefined) byCall.set(result.cause, [reference]);
    else same.push(reference);
  }
  return [...byCall.values()].filter((references) => references.length > 1).flat();
}
