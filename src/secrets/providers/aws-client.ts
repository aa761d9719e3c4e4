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

/** The constructor options every kit-built AWS client gets, for `region` (or the SDK's default). */
export function awsClientConfig(
  settings: AwsClientSettings,
  region: string | undefined,
): Record<string, unknown> {
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

/** One client per region (`undefined`: the SDK's default), created on first use. */
export class ClientsByRegion<C> {
  readonly #clients = new Map<string | undefined, Promise<C>>();
  readonly #create: (region: string | undefined) => Promise<C>;

  constructor(create: (region: string | undefined) => Promise<C>) {
    this.#create = create;
  }

  get(region: string | undefined): Promise<C> {
    let client = this.#clients.get(region);
    if (client === undefined) {
      client = this.#create(region);
      // A failed creation (a missing package) is not cached: the next call tries again.
      client.catch(() => this.#clients.delete(region));
      this.#clients.set(region, client);
    }
    return client;
  }
}

/** What {@link awsService} needs to reach one AWS service. */
export interface AwsServiceOptions<Sdk> {
  /** What needs the SDK, for the missing-dependency error (`An ssm: parameter reference`). */
  readonly feature: string;
  /** Imports the package (a literal `import()`, so that bundlers see it). */
  readonly load: () => Promise<Sdk>;
  /** Builds a client of the service from the loaded SDK. */
  readonly construct: (sdk: Sdk, config: Record<string, unknown>) => object;
  readonly settings: AwsClientSettings;
  /** A client of your own, used for every region. */
  readonly client?:
    | { send(command: never, options?: { abortSignal?: AbortSignal }): Promise<unknown> }
    | undefined;
  /** Called with each client built. */
  readonly onClient?: AwsClientHook | undefined;
}

/** One AWS service: its SDK imported on first use (again after a failed import), a client per region. */
export interface AwsService<Sdk> {
  sdk(): Promise<Sdk>;
  send(region: string | undefined, build: (sdk: Sdk) => unknown, signal: AbortSignal): Promise<unknown>;
}

/** The SDK and clients of one AWS service, as the Secrets Manager and SSM providers share them. */
export function awsService<Sdk>(options: AwsServiceOptions<Sdk>): AwsService<Sdk> {
  type Client = NonNullable<AwsServiceOptions<Sdk>['client']>;
  let sdk: Promise<Sdk> | undefined;
  const loadSdk = (): Promise<Sdk> => {
    sdk ??= importPeer(options.feature, options.load);
    sdk.catch(() => {
      sdk = undefined;
    });
    return sdk;
  };
  const clients = new ClientsByRegion<Client>(async (region) => {
    if (options.client !== undefined) return options.client;
    const client = options.construct(await loadSdk(), awsClientConfig(options.settings, region));
    options.onClient?.(client);
    return client as Client;
  });
  return {
    sdk: loadSdk,
    async send(region, build, signal) {
      const loaded = await loadSdk();
      const client = await clients.get(region);
      return client.send(build(loaded) as never, { abortSignal: signal });
    },
  };
}
