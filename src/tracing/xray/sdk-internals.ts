import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';

/** What the SDK's samplers are asked: the request, as far as sampling rules match it. */
export interface SampleRequest {
  /** `undefined` matches any rule: outside a request, a value that only `*` matches is given instead. */
  readonly host: string | undefined;
  readonly httpMethod: string | undefined;
  readonly urlPath: string | undefined;
  readonly serviceName: string;
  readonly serviceType: string | undefined;
}

/** A sampler of the SDK: `true`/`false`, or the name of the centralized rule that sampled. */
export interface SdkSampler {
  shouldSample(request: SampleRequest): string | boolean | undefined;
}

/** The SDK's `LocalSampler` module. */
export interface SdkLocalSampler extends SdkSampler {
  /** `undefined` restores the SDK's default rules. */
  setLocalRules(source?: object): void;
}

/** The SDK's rule or target poller module. */
export interface SdkPoller {
  poller?: ReturnType<typeof setInterval> | undefined;
  start(): void;
}

/** The SDK's `DefaultSampler` module: centralized rules, the local sampler as fallback. */
export interface SdkDefaultSampler extends SdkSampler {
  readonly localSampler: SdkLocalSampler;
  readonly rulePoller: SdkPoller;
  readonly targetPoller: SdkPoller;
  started: boolean;
  start(): void;
}

/** `http.request`, as the SDK's service connector calls it for the sampling endpoint. */
export type SdkHttpRequest = (
  options: RequestOptions,
  callback: (response: IncomingMessage) => void,
) => ClientRequest;

/** The SDK's `ServiceConnector` module: it posts to the daemon's sampling endpoint. */
export interface SdkServiceConnector {
  httpClient: { readonly request: SdkHttpRequest; readonly __request?: SdkHttpRequest };
}

/** The SDK's `DaemonConfig` module: where its pollers (and its own emitter) reach the daemon. */
export interface SdkDaemonConfig {
  udp_ip: string;
  udp_port: number | string;
  tcp_ip: string;
  tcp_port: number | string;
}

/**
 * The SDK's `Aws` attribute class: an AWS call's fields as its own patcher records them, the
 * whitelisted request and response parameters among them (`table_name`, `queue_url`), as
 * `AWSXRay.setAWSWhitelist` sets them.
 */
export type SdkAwsAttributes = new (
  response: { request: { operation: string; params: unknown }; data: unknown },
  serviceName: string,
) => Record<string, unknown>;

/** The modules of the SDK that its public API does not reach. */
export interface SdkInternals {
  readonly awsAttributes: SdkAwsAttributes;
  readonly defaultSampler: SdkDefaultSampler;
  readonly serviceConnector: SdkServiceConnector;
  readonly daemonConfig: SdkDaemonConfig;
}

const base = 'aws-xray-sdk-core/dist/lib/';

async function load(path: string): Promise<Record<string, unknown>> {
  // A computed specifier: bundlers leave it to Node, which resolves it from the kit's own location
  // to the same file — and so the same module instance — the SDK itself required.
  const specifier = `${base}${path}`;
  const loaded: unknown = await import(specifier);
  const exports = (loaded as { default?: unknown }).default ?? loaded;
  if (typeof exports !== 'object' || exports === null) throw new Error(`unexpected ${specifier}`);
  return exports as Record<string, unknown>;
}

function isFunction(value: unknown): boolean {
  return typeof value === 'function';
}

/**
 * Loads the SDK modules the kit uses but the SDK does not export — the sampler (to start and stop
 * its pollers), the service connector (to bound its requests to the daemon), the daemon address its
 * pollers use, and the `Aws` attribute class (an AWS call's resource fields) — and checks their
 * shape. Their layout has not changed since 3.0.
 *
 * @example
 * ```ts
 * const { defaultSampler } = await loadSdkInternals();
 * ```
 * @throws Error when this version of `aws-xray-sdk-core` lays them out differently.
 */
export async function loadSdkInternals(): Promise<SdkInternals> {
  const [defaultSampler, serviceConnector, daemonConfig, awsAttributes] = await Promise.all([
    load('middleware/sampling/default_sampler.js'),
    load('middleware/sampling/service_connector.js'),
    load('daemon_config.js'),
    import(`${base}segments/attributes/aws.js`).then(
      (loaded: { default?: unknown }) => loaded.default ?? loaded,
    ) as Promise<unknown>,
  ]);
  const local = defaultSampler.localSampler as Record<string, unknown> | undefined;
  const rulePoller = defaultSampler.rulePoller as Record<string, unknown> | undefined;
  const targetPoller = defaultSampler.targetPoller as Record<string, unknown> | undefined;
  const client = serviceConnector.httpClient as Record<string, unknown> | undefined;
  const fits =
    isFunction(defaultSampler.shouldSample) &&
    isFunction(defaultSampler.start) &&
    isFunction(local?.shouldSample) &&
    isFunction(local?.setLocalRules) &&
    isFunction(rulePoller?.start) &&
    isFunction(targetPoller?.start) &&
    isFunction(client?.request) &&
    isFunction(awsAttributes) &&
    typeof daemonConfig.tcp_ip === 'string';
  if (!fits) {
    throw new Error(
      'this version of aws-xray-sdk-core lays out its sampler differently from the 3.x versions the kit supports',
    );
  }
  return {
    awsAttributes: awsAttributes as SdkAwsAttributes,
    defaultSampler: defaultSampler as unknown as SdkDefaultSampler,
    serviceConnector: serviceConnector as unknown as SdkServiceConnector,
    daemonConfig: daemonConfig as unknown as SdkDaemonConfig,
  };
}
