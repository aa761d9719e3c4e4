import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type ClientRequest, globalAgent, request } from 'node:http';
import type { Resource } from '@opentelemetry/resources';
import type { Sampler } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { XrayRulesSource } from '../../config/tracing.js';
import { importPeer } from '../../internal/import-peer.js';

/** A sampler that polls in the background until stopped. */
export interface StoppableSampler extends Sampler {
  stop(): void;
}

interface RemoteSamplerModule {
  readonly AWSXRayRemoteSampler: new (config: {
    resource: Resource;
    endpoint?: string;
    pollingInterval?: number;
  }) => Sampler & { stopPollers(): void };
}

/** How long the start-up check of the rules endpoint waits for an answer. */
const probeTimeoutMs = 2_000;

/** How long one of the sampler's own requests may take before it is given up. */
const pollTimeoutMs = 5_000;

const requestCreated = 'http.client.request.created';

/**
 * X-Ray's centralized sampling for OpenTelemetry, from `@opentelemetry/sampler-aws-xray`: the rules
 * and their targets come from `source` (the X-Ray daemon, or the ADOT collector's `awsproxy`
 * extension: `POST /GetSamplingRules`, `POST /SamplingTargets` every 10 s), matched against the
 * span's `url.path`, `http.request.method`, `server.address` and the resource's `service.name`; while
 * no rule has been read, X-Ray's default rule (1 trace per second, then 5 %) applies. The package is
 * built on the 2.x SDK line; an app on the 3.x line gets its own nested copy of that line's
 * samplers, which share nothing with the provider but the `Sampler` shape.
 *
 * One `POST /GetSamplingRules` at start checks the endpoint; when it does not answer, one `warn`
 * line says so (the package itself reports only to OpenTelemetry's `diag` logger).
 *
 * @throws MissingDependencyError (`ARK_DEPENDENCY_MISSING`) when the package is not installed.
 */
export async function createXrayRemoteSampler(
  source: XrayRulesSource,
  resource: Resource,
  logger: Logger,
): Promise<StoppableSampler> {
  const { AWSXRayRemoteSampler } = await importPeer<RemoteSamplerModule>(
    'OTEL_TRACES_SAMPLER=xray',
    () => import('@opentelemetry/sampler-aws-xray') as Promise<RemoteSamplerModule>,
  );
  // The check first, so that only the sampler's own requests are bound (the check has its timeout).
  probeRulesEndpoint(source.endpoint, logger);
  const unbound = boundRequests(source.endpoint);
  const remote = new AWSXRayRemoteSampler({
    resource,
    endpoint: source.endpoint,
    pollingInterval: source.pollingIntervalSeconds,
  });
  return {
    shouldSample: (...args) => remote.shouldSample(...args),
    toString: () => `XrayRemote{endpoint=${source.endpoint}}`,
    stop: () => {
      remote.stopPollers();
      unbound();
    },
  };
}

/**
 * The package's requests have no timeout and hold the event loop: to an endpoint that accepts and
 * never answers, each poll would leave one more socket open, and the process could not end by itself.
 * Where Node.js announces each request (`http.client.request.created`: 22.12 and later), the
 * sampler's requests get a timeout and never hold the loop; on stop, what is still open to the
 * endpoint is closed. Returns the stop.
 */
function boundRequests(endpoint: string): () => void {
  const url = new URL(endpoint);
  const port = url.port === '' ? '80' : url.port;
  const host = url.host;
  const onRequest = (message: unknown) => {
    const created = (message as { request?: ClientRequest } | null)?.request;
    if (created === undefined || created.getHeader('host') !== host) return;
    if (created.path !== '/GetSamplingRules' && created.path !== '/SamplingTargets') return;
    created.setTimeout(pollTimeoutMs, () =>
      created.destroy(new Error(`no answer within ${pollTimeoutMs} ms`)),
    );
    created.on('socket', (socket) => socket.unref());
  };
  subscribe(requestCreated, onRequest);
  return () => {
    unsubscribe(requestCreated, onRequest);
    const prefix = `${url.hostname}:${port}:`;
    for (const pool of [globalAgent.sockets, globalAgent.freeSockets]) {
      for (const [name, sockets] of Object.entries(pool)) {
        if (name.startsWith(prefix)) for (const socket of sockets ?? []) socket.destroy();
      }
    }
  };
}

function probeRulesEndpoint(endpoint: string, logger: Logger): void {
  const warn = (why: string) =>
    logger.warn(
      { tracing: { samplingRules: endpoint, error: why } },
      `the X-Ray sampling rules could not be read from ${endpoint} (${why}): X-Ray's default rule, 1 trace per second then 5 %, applies until they can; run the X-Ray daemon or the ADOT collector's awsproxy extension there, or set OTEL_TRACES_SAMPLER_ARG=endpoint=<its URL>`,
    );
  try {
    const probe = request(
      `${endpoint}/GetSamplingRules`,
      { method: 'POST', timeout: probeTimeoutMs },
      (response) => {
        response.resume();
        if (response.statusCode !== 200) warn(`HTTP ${response.statusCode}`);
      },
    );
    probe.on('timeout', () => probe.destroy(new Error(`no answer within ${probeTimeoutMs} ms`)));
    probe.on('error', (error) => warn(error.message));
    probe.on('socket', (socket) => socket.unref());
    probe.end('{}');
  } catch (error) {
    warn(error instanceof Error ? error.message : String(error));
  }
}
