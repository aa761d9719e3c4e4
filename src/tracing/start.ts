import type { Logger } from 'pino';
import type { TracingConfig } from '../config/tracing.js';
import type { RequestScope } from '../http/request-scope.js';
import type { TracingBackend } from './backend.js';
import { flushOtherTracerProvider, otherTracerProvider, sentryRegisteredGlobals } from './global-otel.js';
import { instrumentAwsClient } from './instrumentation/aws-sdk.js';
import { InstrumentationFailures } from './instrumentation/failures.js';
import { instrumentFetch } from './instrumentation/fetch.js';
import { instrumentHttpClient } from './instrumentation/http-client.js';
import { instrumentServer } from './instrumentation/server.js';
import { resolveTracingMode, type TracingPlan } from './mode.js';
import { reportDatastoreSpans } from './otel/datastore-report.js';
import { loadOtelBackend } from './otel/load.js';
import { followOtherSdk, otherSdkTracer } from './other-sdk.js';
import { sentryMakesSpans } from './sentry-spans.js';
import { traceIdAloneCheck } from './trace-id-alone.js';
import {
  type InstrumentableAwsClient,
  offTracer,
  outgoingHeaders,
  type RuntimeTracer,
  type SpanHandle,
  type SpanOptions,
} from './tracer.js';
import { loadXrayBackend } from './xray/peer.js';

/** What tracing is started with. */
export interface TracingDependencies {
  readonly logger: Logger;
  readonly scope: RequestScope;
  readonly service: string;
  readonly version: string | undefined;
  readonly region: string | undefined;
  /** The request id header to forward on outgoing calls (lower case); `undefined`: none. */
  readonly requestIdHeader?: string | undefined;
  /** Proxies that append to `X-Forwarded-For` (`server.trustedProxies`), for the client's address. */
  readonly trustedProxies?: number;
}

/** Running tracing: the public tracer, and its shutdown. */
export interface Tracing {
  readonly tracer: RuntimeTracer;
  /**
   * Removes the hooks, subscriptions and wrappers, exports what is left and releases the backend;
   * flushes the tracer provider another SDK registered globally, if one did (its spans were lost at
   * the exit that follows). Never rejects; safe to call twice (one shared promise).
   */
  shutdown(): Promise<void>;
}

function backendTracer(
  backend: TracingBackend,
  failures: InstrumentationFailures,
  requestIdHeader: string | undefined,
  logger: Logger,
): RuntimeTracer {
  const check = traceIdAloneCheck(logger);
  return Object.freeze({
    mode: backend.name,
    span<T>(name: string, fn: (span: SpanHandle) => T, options?: SpanOptions): T {
      check(options);
      return backend.span(name, fn, options);
    },
    setAttributes: backend.setAttributes.bind(backend),
    currentTraceId: backend.currentTraceId.bind(backend),
    currentTraceHeader: backend.currentTraceHeader.bind(backend),
    currentHeaders: () => outgoingHeaders(backend.currentPropagationHeaders(), requestIdHeader),
    instrumentAwsClient: <C extends InstrumentableAwsClient>(client: C) =>
      instrumentAwsClient(client, backend, failures, requestIdHeader),
    flush: backend.flush.bind(backend),
  });
}

/** Removes the instrumentations, each once; a failure is logged, never thrown. */
function uninstallAll(uninstalls: (() => void)[], logger: Logger): void {
  for (const uninstall of uninstalls.splice(0)) {
    try {
      uninstall();
    } catch (error) {
      logger.warn({ err: error }, 'tracing: removing an instrumentation failed');
    }
  }
}

/**
 * Warns of what `OTEL_PROPAGATORS` does that a fleet-wide setting may not mean for this app: names
 * the kit does not support (left out), and a list without `xray` (`X-Amzn-Trace-Id`, which load
 * balancers, App Runner and AWS services carry, is then neither read nor written).
 */
function warnOfPropagators(config: TracingConfig, logger: Logger): void {
  const { propagators, propagatorsIgnored: ignored } = config;
  const fields = { tracing: { propagators, ...(ignored.length > 0 ? { ignored } : {}) } };
  if (ignored.length > 0) {
    logger.warn(
      fields,
      `OTEL_PROPAGATORS names propagators the kit does not support (${ignored.join(', ')}): their headers are neither read nor written; the kit supports tracecontext, baggage and xray`,
    );
  }
  // `none` (an empty list) says what it means; a list of other names may not.
  if (
    config.propagatorsSource === 'OTEL_PROPAGATORS' &&
    propagators.length > 0 &&
    !propagators.includes('xray')
  ) {
    logger.warn(
      fields,
      'OTEL_PROPAGATORS leaves out xray: X-Amzn-Trace-Id (from load balancers, App Runner and AWS services, and to AWS SDK calls) is neither read nor written; add xray to the list, or set tracing.propagators to say this is meant',
    );
  }
}

/**
 * Warns of each `OTEL_BSP_*` or span-limit variable whose value could not be used, as OpenTelemetry's
 * SDKs do, and says what is used instead.
 */
function warnOfSdkSettings(config: TracingConfig, logger: Logger): void {
  for (const { name, value, used } of config.sdk.ignored) {
    const instead = Number.isFinite(used) ? String(used) : 'no limit';
    logger.warn(
      { tracing: { variable: name, value, used: instead } },
      `${name}=${JSON.stringify(value)} cannot be used: ${instead} is used instead (see the environment variables in docs/configuration.md)`,
    );
  }
}

/**
 * What the kit does beside another SDK's global tracer provider, and the line that says it. Sentry's
 * provider registered for errors alone makes no span: the kit traces then, as with none
 * (`sentrySpans` asks Sentry's client).
 */
export function besideOtherSdk(
  config: TracingConfig,
  plan: TracingPlan,
  logger: Logger,
  sentrySpans: () => boolean | undefined = sentryMakesSpans,
): TracingPlan {
  const other = otherTracerProvider();
  if (other === undefined) return plan;
  const fields = { mode: config.mode, otherTracerProvider: other.name };
  const backendName = (backend: TracingPlan['backend']) =>
    backend === 'xray' ? 'the X-Ray SDK' : 'OpenTelemetry';
  if (config.mode === 'auto' && sentryRegisteredGlobals(other) && sentrySpans() === false) {
    if (plan.backend !== 'off')
      logger.info(
        { tracing: { ...fields, otherMakesSpans: false } },
        `Sentry's tracer provider (${other.name}) is OpenTelemetry's global one, but Sentry makes no spans (no tracesSampleRate nor tracesSampler): the kit traces through ${backendName(plan.backend)} in auto mode, as without Sentry`,
      );
    return plan;
  }
  if (config.mode === 'auto') {
    const instead =
      plan.backend === 'off'
        ? ''
        : `, which would have traced through ${backendName(plan.backend)} (${plan.reason})`;
    logger.info(
      {
        tracing: { ...fields, backend: 'off', ...(plan.backend === 'off' ? {} : { instead: plan.backend }) },
      },
      `tracing left to another SDK (${other.name}), registered as OpenTelemetry's global tracer provider: the kit traces nothing itself in auto mode${instead}, and its log lines carry the trace and span ids of the other SDK's spans; set tracing.mode (or TRACING_MODE) to "otel" or "xray" to trace with the kit as well, every request then traced twice, or to "off" to say this is meant`,
    );
    return { backend: 'off', reason: `another SDK (${other.name}) registered the global tracer provider` };
  }
  if (plan.backend !== 'off') {
    const from = config.modeSource === 'TRACING_MODE' ? 'TRACING_MODE' : 'tracing.mode';
    logger.warn(
      { tracing: { ...fields, backend: plan.backend } },
      `${from} is "${config.mode}" and another SDK (${other.name}) is registered as OpenTelemetry's global tracer provider: every request is traced twice, by the kit through ${backendName(plan.backend)} and by the other SDK (in two traces when no trace header comes in), and the kit's log lines carry the kit's trace ids; set ${from} to "auto" or "off" to leave tracing to the other SDK`,
    );
  }
  return plan;
}

/**
 * Starts tracing as `config` says: resolves the mode, loads the backend (OpenTelemetry's packages
 * only in `otel` mode, `aws-xray-sdk-core` only in `xray` mode), installs the server hooks and the
 * fetch and node:http client instrumentation, and logs one line saying what runs and why. With
 * tracing off, the request id (`requestIdHeader`) is still forwarded: through diagnostics channels
 * (undici's, and `http.client.request.created`), wrapping nothing where Node.js has them.
 *
 * @throws MissingDependencyError (`ARK_DEPENDENCY_MISSING`) when an `@opentelemetry/*` package or
 * `aws-xray-sdk-core` the mode needs is not installed.
 */
export async function startTracing(
  config: TracingConfig,
  dependencies: TracingDependencies,
): Promise<Tracing> {
  const { logger, scope, requestIdHeader } = dependencies;
  const plan = besideOtherSdk(config, resolveTracingMode(config), logger);
  warnOfPropagators(config, logger);
  // Variables the kit could not read, left out because the backend that reads them does not trace.
  const leftOut = (name: string, value: string | string[], message: string) =>
    logger.warn({ tracing: { backend: plan.backend, [name]: value } }, message);
  if (config.xrayDaemonAddressIgnored !== undefined) {
    leftOut(
      'AWS_XRAY_DAEMON_ADDRESS',
      config.xrayDaemonAddressIgnored.slice(0, 100),
      'AWS_XRAY_DAEMON_ADDRESS is not an address the kit reads (host:port, or "udp:host:port tcp:host:port"): it is left out, as the X-Ray SDK does not trace here',
    );
  }
  if (config.resourceAttributesIgnored.length > 0) {
    leftOut(
      'OTEL_RESOURCE_ATTRIBUTES',
      config.resourceAttributesIgnored.map((pair) => pair.slice(0, 100)),
      'OTEL_RESOURCE_ATTRIBUTES has pairs that are not key=value with a percent-encoded value: they are left out, as OpenTelemetry does not trace here',
    );
  }
  if (config.xrayTracingName !== undefined && plan.backend === 'otel') {
    logger.warn(
      { tracing: { backend: plan.backend, AWS_XRAY_TRACING_NAME: config.xrayTracingName.slice(0, 200) } },
      "AWS_XRAY_TRACING_NAME is the X-Ray SDK's and is not read where OpenTelemetry traces: X-Ray names the segments after the service (service.name); set SERVICE_NAME or OTEL_SERVICE_NAME to that name instead to keep the segments' name",
    );
  }
  const datastore = reportDatastoreSpans(plan.backend === 'otel', logger);
  if (plan.backend === 'off') {
    logger.debug(
      { tracing: { mode: config.mode, backend: 'off', reason: plan.reason, ...datastore.fields } },
      'tracing is off',
    );
    const uninstalls: (() => void)[] = [];
    if (requestIdHeader !== undefined) {
      const failures = new InstrumentationFailures(logger);
      if (config.fetch) uninstalls.push(instrumentFetch(undefined, failures, requestIdHeader));
      if (config.httpClient) uninstalls.push(instrumentHttpClient(undefined, failures, requestIdHeader));
    }
    // Another SDK traces (registered before the kit started): the log lines take its ids.
    const other = otherTracerProvider() !== undefined;
    if (other) uninstalls.push(followOtherSdk(scope));
    let offStopped: Promise<void> | undefined;
    return {
      tracer: other ? otherSdkTracer(requestIdHeader) : offTracer(requestIdHeader),
      shutdown() {
        offStopped ??= (async () => {
          uninstallAll(uninstalls, logger);
          await flushOtherTracerProvider(logger);
        })();
        return offStopped;
      },
    };
  }

  const backendOptions = {
    tracing: config,
    service: dependencies.service,
    version: dependencies.version,
    region: dependencies.region,
    logger,
  };
  if (plan.backend === 'otel') warnOfSdkSettings(config, logger);
  const backend =
    plan.backend === 'xray'
      ? await (await loadXrayBackend(config.xrayDaemonAddress)).createXrayBackend(backendOptions)
      : await (await loadOtelBackend()).createOtelBackend(backendOptions);
  const failures = new InstrumentationFailures(logger);
  const uninstalls = [instrumentServer(scope, backend, failures, dependencies.trustedProxies ?? 1)];
  if (config.fetch) uninstalls.push(instrumentFetch(backend, failures, requestIdHeader));
  if (config.httpClient) uninstalls.push(instrumentHttpClient(backend, failures, requestIdHeader));
  const { description } = backend;
  logger.info(
    {
      tracing: {
        mode: config.mode,
        backend: backend.name,
        reason: plan.reason,
        propagators: config.propagators.join(',') || 'none',
        ...description,
        ...datastore.fields,
      },
    },
    backend.name === 'xray'
      ? `tracing through the X-Ray SDK: segments over UDP to ${description.daemon}, ${description.sampling} sampling`
      : description.exporter === 'none'
        ? 'tracing through OpenTelemetry, exporting nothing (OTEL_TRACES_EXPORTER=none)'
        : `tracing through OpenTelemetry: ${description.protocol} to ${description.endpoint}, sampler ${description.sampler}`,
  );
  datastore.hint();

  let stopped: Promise<void> | undefined;
  return {
    tracer: backendTracer(backend, failures, requestIdHeader, logger),
    shutdown() {
      stopped ??= (async () => {
        uninstallAll(uninstalls, logger);
        await Promise.all([backend.shutdown(), flushOtherTracerProvider(logger)]);
      })();
      return stopped;
    },
  };
}
