import { importPeer } from '../../internal/import-peer.js';

/** How the kit builds AWS clients: bounded connect and request timeouts, capped retries. */
export interface AwsClientSettings {
  /** Connect timeout of each attempt. */
  readonly connectTimeoutMs: number;
  /** Request timeout of each attempt (enforced: the SDK only warns unless told to throw). */
  readonly requestTimeoutMs: number;
  /** Attempts per call, the first included. */
  readonly maxAttempts: number;
}

/** Called with each AWS client the kit creates (tracing instruments it). */
export type AwsClientHook = (client: object) => void;

/** Any client with the AWS SDK v3 `send(command, options)` (a `SecretsManagerClient` or `SSMClient`). */
export interface AwsClientLike {
  send(command: never, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/**
 * The credentials the AWS clients of one secret store resolve through, one provider per region: the
 * provider of the first client built for that region. Each client of the AWS SDK otherwise runs the
 * default provider chain on its own: with no credentials on a laptop, the Secrets Manager and the SSM
 * client each probed the instance metadata endpoint (4 connections, not 2). A provider is not shared
 * across regions: the SDK gives the one it builds an STS client in its client's region, with that
 * client's request handler, so a `us-east-1` client's web identity credentials went to
 * sts.eu-west-1 when the first client built was in `eu-west-1`.
 */
export interface SharedCredentials {
  /** Each region's first client's `config.credentials` (`undefined`: the SDK's default region). */
  readonly providers: Map<string | undefined, unknown>;
}

/** Options of the Secrets Manager and SSM providers. */
export interface AwsProviderOptions {
  readonly settings: AwsClientSettings;
  /** A client of your own, used for every reference. */
  readonly client?: AwsClientLike | undefined;
  /** Called with each client the provider creates. */
  readonly onClient?: AwsClientHook | undefined;
  /**
   * The region of a reference that names none (not an ARN): the kit's, `AWS_REGION` else
   * `AWS_DEFAULT_REGION`. The AWS SDK for JavaScript v3 reads only `AWS_REGION` (and the profile).
   */
  readonly region?: string | undefined;
  /** Credentials shared with the other providers' clients (see {@link SharedCredentials}). */
  readonly credentials?: SharedCredentials | undefined;
}

/** The constructor options every kit-built AWS client gets, for `region` (or the SDK's default). */
function awsClientConfig(settings: AwsClientSettings, region: string | undefined): Record<string, unknown> {
  return {
    ...(region === undefined ? {} : { region }),
    maxAttempts: settings.maxAttempts,
    requestHandler: {
      connectionTimeout: settings.connectTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  };
}

/** What {@link awsService} needs to reach one AWS service. */
export interface AwsServiceOptions<Sdk> extends AwsProviderOptions {
  /** What needs the SDK, for the missing-dependency error (`An ssm: parameter reference`). */
  readonly feature: string;
  /** Imports the package (a literal `import()`, so that bundlers see it). */
  readonly load: () => Promise<Sdk>;
  /** Builds a client of the service from the loaded SDK. */
  readonly construct: (sdk: Sdk, config: Record<string, unknown>) => object;
}

/** One AWS service: its SDK imported on first use (again after a failed import), a client per region. */
export interface AwsService<Sdk> {
  send(region: string | undefined, build: (sdk: Sdk) => unknown, signal: AbortSignal): Promise<unknown>;
  /**
   * Destroys the clients the service built (the SDK's `destroy()` closes the sockets it keeps alive),
   * each once its calls under way have settled; never a client given in the options. A call sent
   * afterwards builds a client of its own, destroyed once the call settles. Resolves when the clients
   * built before are destroyed; rejects with what a `destroy()` threw. Safe to call twice.
   */
  close(): Promise<void>;
}

/** A client the service built, with its calls under way. */
interface BuiltClient {
  readonly client: Promise<AwsClientLike>;
  calls: number;
  /** Set once the service closed: destroys the client once its last call settles. */
  whenIdle?: () => void;
}

/** Destroys a client the kit built; one whose creation failed (a missing package) has nothing to destroy. */
async function destroyClient(built: BuiltClient): Promise<void> {
  const client = await built.client.catch(() => undefined); // the failure went to the call that built it
  (client as { destroy?: () => void } | undefined)?.destroy?.();
}

/** The SDK and clients of one AWS service, as the Secrets Manager and SSM providers share them. */
export function awsService<Sdk>(options: AwsServiceOptions<Sdk>): AwsService<Sdk> {
  let sdk: Promise<Sdk> | undefined;
  const loadSdk = (): Promise<Sdk> => {
    if (sdk === undefined) {
      sdk = importPeer(options.feature, options.load);
      // A failed import (a missing package) is not cached: the next call tries again.
      sdk.catch(() => {
        sdk = undefined;
      });
    }
    return sdk;
  };
  // One client per region (`undefined`: the SDK's default), created on first use.
  const clients = new Map<string | undefined, BuiltClient>();
  let closed: Promise<void> | undefined;
  const create = async (region: string | undefined): Promise<AwsClientLike> => {
    const sdk = await loadSdk();
    // From here to the end, nothing awaits: the first client built for a region gives its provider to
    // the others of that region, those whose SDK was imported at the same time (Secrets Manager's and
    // SSM's at start-up) too.
    const config = awsClientConfig(options.settings, region);
    const shared = options.credentials?.providers;
    const provider = shared?.get(region);
    // The SDK takes a provider it memoized as it is: one resolution in flight serves every client.
    if (provider !== undefined) config.credentials = provider;
    const client = options.construct(sdk, config);
    if (shared !== undefined && provider === undefined) {
      const credentials = (client as { config?: { credentials?: unknown } }).config?.credentials;
      if (typeof credentials === 'function') shared.set(region, credentials);
    }
    options.onClient?.(client);
    return client as AwsClientLike;
  };
  const builtFor = (region: string | undefined): BuiltClient => {
    let built = clients.get(region);
    if (built === undefined) {
      const created: BuiltClient = { client: create(region), calls: 0 };
      // A failed creation (a missing package) is not cached: the next call tries again.
      created.client.catch(() => {
        if (clients.get(region) === created) clients.delete(region);
      });
      clients.set(region, created);
      built = created;
    }
    return built;
  };
  const retire = (built: BuiltClient): Promise<void> =>
    built.calls === 0
      ? destroyClient(built)
      : new Promise<void>((resolve) => {
          built.whenIdle = resolve;
        }).then(() => destroyClient(built));
  return {
    async send(referenceRegion, build, signal) {
      const region = referenceRegion ?? options.region;
      const loaded = await loadSdk();
      const sendOn = (client: AwsClientLike) => client.send(build(loaded) as never, { abortSignal: signal });
      if (options.client !== undefined) return sendOn(options.client);
      if (closed !== undefined) {
        // Closed (a read after the runtime stopped): a client for this call alone.
        const client = await create(region);
        try {
          return await sendOn(client);
        } finally {
          (client as { destroy?: () => void }).destroy?.();
        }
      }
      const built = builtFor(region);
      built.calls++;
      try {
        return await sendOn(await built.client);
      } finally {
        if (--built.calls === 0) built.whenIdle?.();
      }
    },
    close() {
      if (closed === undefined) {
        const retiring = [...clients.values()].map(retire);
        clients.clear();
        closed = Promise.all(retiring).then(() => undefined);
      }
      return closed;
    },
  };
}
