import { AsyncResource } from 'node:async_hooks';
import http, { type IncomingMessage } from 'node:http';
import type { XrayDaemonAddress } from '../../config/tracing.js';
import type { DaemonStatus, SamplingOperation } from './daemon-status.js';
import type { XrayConfig } from './options.js';
import type {
  SampleRequest,
  SdkDaemonConfig,
  SdkHttpRequest,
  SdkInternals,
  SdkServiceConnector,
} from './sdk-internals.js';

/** How often the SDK asks for sampling targets, and for the rules. */
const targetsIntervalMs = 10_000;
const rulesIntervalMs = 5 * 60_000;

/** Bound on each request to the daemon's sampling endpoint, connect to last byte. */
const samplingRequestTimeoutMs = 2_000;

/** What the sampler decided for a new trace. */
export interface SamplingDecision {
  readonly sampled: boolean;
  /** The centralized rule that matched, recorded on the segment (`aws.xray.rule_name`). */
  readonly rule: string | undefined;
}

/** The sampler of new traces (a caller's `Sampled=1` or `Sampled=0` never reaches it). */
export interface XraySampler {
  decide(request: SampleRequest): SamplingDecision;
  /** Stops the pollers and gives back what was changed in the SDK. Safe to call twice. */
  stop(): void;
}

/** Not sampled, by no rule: the local rules' "no", or a caller's `Sampled=0`. */
export const notSampled: SamplingDecision = Object.freeze({ sampled: false, rule: undefined });
/** Sampled, by no centralized rule: the local rules' "yes", or a caller's `Sampled=1`. */
export const sampledLocally: SamplingDecision = Object.freeze({ sampled: true, rule: undefined });

/**
 * The SDK's service connector calls `http.request` with no timeout, and the socket it opens keeps
 * the process alive: a daemon that accepts and never answers would hold it forever. This request
 * function bounds each call and unrefs its socket; it uses `http.request` as it was before the
 * kit's client instrumentation wrapped it, so the polls are never traced.
 */
function boundedRequest(request: typeof http.request, status: DaemonStatus): SdkHttpRequest {
  return (options, callback) => {
    const req = request(options, (response) => {
      watchAnswer(options.path, response, status);
      callback(response);
    });
    req.setTimeout(samplingRequestTimeoutMs, () =>
      req.destroy(new Error(`no answer within ${samplingRequestTimeoutMs} ms`)),
    );
    req.once('socket', (socket) => socket.unref());
    return req;
  };
}

/**
 * Tells the X-Ray API's refusal, which the daemon passes on with its status, from an answer: the SDK
 * reads a refused `GetSamplingRules` as no rules, silently, and a refused `GetSamplingTargets` as a
 * daemon that does not answer.
 */
function watchAnswer(path: string | null | undefined, response: IncomingMessage, status: DaemonStatus): void {
  const operation: SamplingOperation | undefined =
    path === '/GetSamplingRules'
      ? 'GetSamplingRules'
      : path === '/SamplingTargets'
        ? 'GetSamplingTargets'
        : undefined;
  if (operation === undefined) return;
  const statusCode = response.statusCode ?? 0;
  if (statusCode === 200) {
    status.accepted(operation);
    return;
  }
  let body = '';
  response.on('data', (chunk: Buffer | string) => {
    if (body.length < maxRefusalBytes) body += String(chunk);
  });
  response.on('end', () => status.refused(operation, statusCode, refusalDetail(body)));
}

const maxRefusalBytes = 1_024;

/** The X-Ray API's error, as its JSON body says it (`__type`, `message`), in a few hundred characters. */
function refusalDetail(body: string): string {
  let detail = body;
  try {
    const parsed = JSON.parse(body) as { __type?: unknown; message?: unknown; Message?: unknown };
    const message = parsed.message ?? parsed.Message;
    detail = [parsed.__type, message].filter((part) => typeof part === 'string').join(': ') || body;
  } catch {
    // Not JSON: the body as it is.
  }
  return detail.slice(0, 300);
}

function setDaemon(config: SdkDaemonConfig, address: XrayDaemonAddress): () => void {
  const previous = { ...config };
  config.udp_ip = address.udp.host;
  config.udp_port = address.udp.port;
  config.tcp_ip = address.tcp.host;
  config.tcp_port = address.tcp.port;
  return () => Object.assign(config, previous);
}

function setHttpClient(connector: SdkServiceConnector, status: DaemonStatus): () => void {
  const previous = connector.httpClient;
  connector.httpClient = { request: boundedRequest(http.request, status) };
  return () => {
    connector.httpClient = previous;
  };
}

/**
 * Starts the sampler `config` asks for, on the SDK's own samplers (they are process-wide: one
 * X-Ray backend runs per process).
 *
 * `'centralized'` (the default): the SDK's `DefaultSampler`, its pollers started now — outside any
 * request, so their timers carry no request's context — against the daemon's TCP endpoint only,
 * each request bounded and unref'd; the local rules decide until the rules arrive and whenever
 * they are more than an hour old. `'local'`: the local rules only; nothing is polled.
 *
 * @example
 * ```ts
 * const sampler = startSampler(await loadSdkInternals(), config.tracing.xray, daemon, status);
 * sampler.decide({ host, httpMethod: 'GET', urlPath: '/notes/7', serviceName, serviceType: undefined });
 * sampler.stop();
 * ```
 */
export function startSampler(
  internals: SdkInternals,
  config: XrayConfig,
  daemon: XrayDaemonAddress,
  status: DaemonStatus,
): XraySampler {
  const sdk = internals.defaultSampler;
  // The SDK keeps the parsed rules; a copy, as the configured ones are frozen.
  sdk.localSampler.setLocalRules(
    config.samplingRules === undefined ? undefined : structuredClone(config.samplingRules),
  );
  const restores: (() => void)[] = [() => sdk.localSampler.setLocalRules()];
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    status.onUdpRecovered = undefined;
    for (const restore of restores.splice(0).reverse()) restore();
  };

  if (config.sampling === 'local') {
    const local = sdk.localSampler;
    return {
      decide: (request) => (local.shouldSample(request) === true ? sampledLocally : notSampled),
      stop,
    };
  }

  restores.push(setDaemon(internals.daemonConfig, daemon));
  restores.push(setHttpClient(internals.serviceConnector, status));
  restores.push(() => {
    clearInterval(sdk.rulePoller.poller);
    clearInterval(sdk.targetPoller.poller);
    sdk.rulePoller.poller = undefined;
    sdk.targetPoller.poller = undefined;
    sdk.started = false;
  });
  if (sdk.started) sdk.rulePoller.start();
  else sdk.start();
  // The SDK polls on the phase of its start (its jitter is a few milliseconds): instances started
  // together would call the X-Ray API together for ever, every 10 s and every 5 minutes, and share
  // its quota at the same instant. Each instance moves its polls to a phase of its own; the rules
  // were fetched just now.
  clearInterval(sdk.targetPoller.poller);
  clearInterval(sdk.rulePoller.poller);
  const phased = [
    setTimeout(() => stopped || sdk.targetPoller.start(), Math.random() * targetsIntervalMs),
    setTimeout(() => stopped || sdk.rulePoller.start(), Math.random() * rulesIntervalMs),
  ];
  for (const timer of phased) timer.unref();
  restores.push(() => {
    for (const timer of phased) clearTimeout(timer);
  });
  // Rules are polled every 5 minutes: when segments reach the daemon again, fetch them now. The
  // emitter calls this from a datagram's send callback, inside the request that sent it: bound to
  // this (start-up) context, the poller's new interval keeps no request's context alive.
  status.onUdpRecovered = AsyncResource.bind(() => {
    if (!stopped) sdk.rulePoller.start();
  });
  return {
    decide(request) {
      const decision = sdk.shouldSample(request);
      if (typeof decision === 'string') return { sampled: true, rule: decision };
      return decision === true ? sampledLocally : notSampled;
    },
    stop,
  };
}
