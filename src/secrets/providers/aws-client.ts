import { MissingDependencyError } from '../../errors.js';

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

/**
 * Imports an optional peer dependency, or throws the error that names it and the install command.
 * Dynamic, so that the package is loaded only by the part that uses it.
 */
export async function importPeer<T>(
  packageName: string,
  feature: string,
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new MissingDependencyError(packageName, feature, { cause: error });
    }
    throw error;
  }
}

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
