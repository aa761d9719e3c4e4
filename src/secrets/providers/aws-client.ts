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

/** Options of the Secrets Manager and SSM providers. */
export interface AwsProviderOptions {
  readonly settings: AwsClientSettings;
  /** A client of your own, used for every reference. */
  readonly client?: AwsClientLike | undefined;
  /** Called with each client the provider creates. */
  readonly onClient?: AwsClientHook | undefined;
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
  const clients = new Map<string | undefined, Promise<AwsClientLike>>();
  const create = async (region: string | undefined): Promise<AwsClientLike> => {
    if (options.client !== undefined) return options.client;
    const client = options.construct(await loadSdk(), awsClientConfig(options.settings, region));
    options.onClient?.(client);
    return client as AwsClientLike;
  };
  const clientFor = (region: string | undefined): Promise<AwsClientLike> => {
    let client = clients.get(region);
    if (client === undefined) {
      client = create(region);
      // A failed creation (a missing package) is not cached: the next call tries again.
      client.catch(() => clients.delete(region));
      clients.set(region, client);
    }
    return client;
  };
  return {
    async send(region, build, signal) {
      const loaded = await loadSdk();
      const client = await clientFor(region);
      return client.send(build(loaded) as never, { abortSignal: signal });
    },
  };
}
