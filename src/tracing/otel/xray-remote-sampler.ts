import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type ClientRequest, globalAgent, request } from 'node:http';
import type { Resource } from '@opentelemetry/resources';
import type { Sampler } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { XrayRulesSource } from '../../config/tracing.js';
import { importPeer } from '../../internal/import-peer.js';
import {
  detailLength,
  type PollFailure,
  type SamplingPoll,
  SamplingPollStatus,
} from './sampling-poll-status.js';

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
 * The package reports its polls only to OpenTelemetry's `diag` logger (a refused one at `debug`).
 * One `POST /GetSamplingRules` at start checks the endpoint, and every poll's
 * answer is watched (Node.js 22.12 and later): a {@link SamplingPollStatus} writes one warning when
 * polls begin to fail, at start or later, and one info line when they are answered again.
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
  const status = new SamplingPollStatus(logger, source.endpoint);
  // The check first, so that only the sampler's own requests are watched (the check has its timeout).
  probeRulesEndpoint(source.endpoint, status);
  const unwatch = watchPolls(source.endpoint, status);
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
      unwatch();
    },
  };
}

const polls: Readonly<Record<string, SamplingPoll>> = {
  '/GetSamplingRules': 'GetSamplingRules',
  '/SamplingTargets': 'SamplingTargets',
};

/**
 * Watches the sampler's requests where Node.js announces each one (`http.client.request.created`:
 * 22.12 and later). The package's requests have no timeout and hold the event loop: to an endpoint
 * that accepts and never answers, each poll would leave one more socket open, and the process could
 * not end by itself; here they get a timeout and never hold the loop, and on stop what is still open
 * to the endpoint is closed. Each answer (its status, the start of a refusal's body) or error goes to
 * `status`. Returns the stop.
 */
function watchPolls(endpoint: string, status: SamplingPollStatus): () => void {
  const url = new URL(endpoint);
  const port = url.port === '' ? '80' : url.port;
  const host = url.host;
  const onRequest = (message: unknown) => {
    const created = (message as { request?: ClientRequest } | null)?.request;
    if (created === undefined || created.getHeader('host') !== host) return;
    const poll = polls[created.path];
    if (poll === undefined) return;
    created.setTimeout(pollTimeoutMs, () =>
      created.destroy(new Error(`no answer within ${pollTimeoutMs} ms`)),
    );
    created.on('socket', (socket) => socket.unref());
    created.once('error', (error) => status.failed(poll, { error: error.message }));
    created.once('response', (response) => {
      const statusCode = response.statusCode ?? 0;
      if (statusCode === 200) {
        status.answered(poll);
        return;
      }
      // The package reads the body; the start of it names the refusal (`ThrottledException`).
      let detail = '';
      const onData = (chunk: Buffer | string) => {
        detail += String(chunk).slice(0, detailLength - detail.length);
        if (detail.length >= detailLength) response.off('data', onData);
      };
      response.on('data', onData);
      response.once('close', () => status.failed(poll, { statusCode, detail }));
    });
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

/** Asks for the rules once at start, with a timeout: a failure goes to `status`, which warns. */
function probeRulesEndpoint(endpoint: string, status: SamplingPollStatus): void {
  const failed = (failure: PollFailure) => status.failed('GetSamplingRules', failure);
  try {
    const probe = request(
      `${endpoint}/GetSamplingRules`,
      { method: 'POST', timeout: probeTimeoutMs },
      (response) => {
        response.resume();
        if (response.statusCode !== 200) failed({ statusCode: response.statusCode ?? 0, detail: '' });
      },
    );
    probe.on('timeout', () => probe.destroy(new Error(`no answer within ${probeTimeoutMs} ms`)));
    probe.on('error', (error) => failed({ error: error.message }));
    probe.on('socket', (socket) => socket.unref());
    probe.end('{}');
  } catch (error) {
    failed({ error: error instanceof Error ? error.message : String(error) });
  }
}
