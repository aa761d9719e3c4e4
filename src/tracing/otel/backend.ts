import {
  type AttributeValue,
  type Context,
  context as contextApi,
  defaultTextMapGetter,
  isSpanContextValid,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { isTracingSuppressed, RPCType, setRPCMetadata, suppressTracing } from '@opentelemetry/core';
import { defaultResource, type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { TracingConfig } from '../../config/tracing.js';
import {
  getRequestContext,
  type ReceivedPropagation,
  type RequestContext,
  type SpanIdReader,
  setTracingState,
  tracingState,
} from '../../http/context.js';
import { describeThrown } from '../../logging/serializers.js';
import type {
  BackendDescription,
  CallOutcome,
  ClientSpan,
  OutgoingCall,
  RequestOutcome,
  StartedRequest,
  TracingBackend,
} from '../backend.js';
import { markKitTracerProvider, registeredGlobals } from '../global-otel.js';
import type { IncomingRequestInfo } from '../incoming-request.js';
import { maskedError, maskedText } from '../masked-error.js';
import type { PropagationHeader } from '../propagation.js';
import { requestFieldAttributes } from '../request-attributes.js';
import { runInSpan, type SpanEnding } from '../run-in-span.js';
import { newTraceId, parseTraceContext, type TraceHeader, toHexTraceId } from '../trace-header.js';
import type { SpanAttributes, SpanHandle, SpanKindName, SpanOptions } from '../tracer.js';
import { followKitProvider, otherApiCopies } from './api-copies.js';
import {
  clientSpan,
  definedAttributes,
  errorType,
  normaliseMethod,
  outcomeAttributes,
  serverAttributes,
  serverSpanName,
} from './attributes.js';
import { awsOutputAttributes } from './aws-resources.js';
import { RequestContextManager } from './context-manager.js';
import { useTracerProvider } from './datastore-report.js';
import { resolveExportTarget } from './export-target.js';
import { gateQueue, loadExporter, OutageReportingExporter } from './exporter.js';
import { XrayIdGenerator } from './id-generator.js';
import { detectPlatformResource } from './platform-resource.js';
import { contextFromHeader, createPropagator, headerFor, injectedHeaders } from './propagator.js';
import { resourceAttributes } from './resource.js';
import { chooseSampler, type SamplerChoice } from './sampler.js';
import type { SdkTracerProvider, TraceSdk } from './trace-sdk.js';

/** What the OpenTelemetry backend is built from. */
export interface OtelBackendOptions {
  readonly tracing: TracingConfig;
  readonly service: string;
  readonly version: string | undefined;
  readonly region: string | undefined;
  readonly logger: Logger;
  /** The ECS or EKS resource attributes, once detected (createOtelBackend fills them in). */
  readonly platformAttributes?: Readonly<Record<string, AttributeValue>> | undefined;
}

/** What createOtelBackend resolved before building the backend. */
interface OtelBackendParts {
  readonly resource: Resource;
  readonly sampler: SamplerChoice;
}

/** The span of one request, kept on its request context until its response ends. */
interface RequestTrace {
  readonly parent: Context;
  readonly span: Span;
  readonly method: string;
  /** The OpenTelemetry context with the span, made when something first asks for it. */
  context: Context | undefined;
}

function requestTrace(backend: object, request: RequestContext): RequestTrace | undefined {
  return tracingState(request, backend) as RequestTrace | undefined;
}

/**
 * The request's OpenTelemetry context; most requests never need it, so it is made on first use. It
 * carries the HTTP RPC metadata `@opentelemetry/instrumentation-http` puts on the context of its
 * server span: the framework instrumentations that read it (`@fastify/otel`,
 * `@opentelemetry/instrumentation-express`, `-koa`) then know the request has its SERVER span, and make
 * theirs INTERNAL instead of a second SERVER span for the request.
 */
function requestOtelContext(backend: object, request: RequestContext): Context | undefined {
  const traced = requestTrace(backend, request);
  if (traced === undefined) return undefined;
  traced.context ??= setRPCMetadata(trace.setSpan(traced.parent, traced.span), {
    type: RPCType.HTTP,
    span: traced.span,
  });
  return traced.context;
}

const kinds: Readonly<Record<SpanKindName, SpanKind>> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

/** What `recordException` takes: the error, or its text (read without throwing). */
function exceptionOf(error: unknown): Error | string {
  return error instanceof Error ? maskedError(error) : maskedText(describeThrown(error));
}

/** The error each span last recorded: `span.recordError(e); throw e` records it once, not twice. */
const lastRecorded = new WeakMap<Span, unknown>();

/** Records `error` as an exception event of `span`, unless it was the last one recorded there. */
function recordException(span: Span, error: unknown): void {
  if (lastRecorded.has(span) && lastRecorded.get(span) === error) return;
  lastRecorded.set(span, error);
  span.recordException(exceptionOf(error));
}

function recordError(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  recordException(span, error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: maskedText(error instanceof Error ? String(error.message) : describeThrown(error)),
  });
  span.setAttribute('error.type', errorType(error));
}

/**
 * Copies the request's fields to its span, never over an attribute the span already has (a field
 * named `url.path` must not replace the real one): the SDK's spans show theirs as `attributes`.
 */
function setRequestFieldAttributes(span: Span, context: RequestContext): void {
  const fields = requestFieldAttributes(context);
  if (fields === undefined) return;
  const existing = (span as Span & { attributes?: Readonly<Record<string, unknown>> }).attributes ?? {};
  for (const name of Object.keys(fields)) {
    const value = fields[name];
    if (value !== undefined && existing[name] === undefined) span.setAttribute(name, value as string);
  }
}

/** `tracer.span`'s `links` as OpenTelemetry links: each a trace header naming a parent span. */
function spanLinks(values: readonly string[] | undefined): Link[] {
  const links: Link[] = [];
  for (const value of values ?? []) {
    const header = parseTraceContext(value);
    if (header?.parent === undefined) continue;
    links.push({
      context: {
        traceId: toHexTraceId(header.root)!,
        spanId: header.parent,
        traceFlags: header.sampled === '1' ? TraceFlags.SAMPLED : TraceFlags.NONE,
        isRemote: true,
      },
    });
  }
  return links;
}

/** The id of `span` when its trace is sampled (an unsampled span is exported nowhere to point at). */
function sampledSpanId(span: Span | undefined): string | undefined {
  if (span === undefined) return undefined;
  const spanContext = span.spanContext();
  return (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED
    ? spanContext.spanId
    : undefined;
}

const invalidTraceId = '00000000000000000000000000000000';

/**
 * The X-Ray form of a span context's trace id. Span contexts hold 32 lower-case hex digits (the kit
 * makes or checks every id), so no pattern test is needed on this per-request path (it was ~3 % of
 * the kit's tracing cost, measured); the all-zero id of a suppressed context is the one to refuse.
 */
function xrayTraceId(hex: string): string | undefined {
  return hex.length === 32 && hex !== invalidTraceId ? `1-${hex.slice(0, 8)}-${hex.slice(8)}` : undefined;
}

class OtelSpanHandle implements SpanHandle {
  readonly #span: Span;

  constructor(span: Span) {
    this.#span = span;
  }

  get traceId(): string | undefined {
    return xrayTraceId(this.#span.spanContext().traceId);
  }

  get spanId(): string | undefined {
    const context = this.#span.spanContext();
    return isSpanContextValid(context) ? context.spanId : undefined;
  }

  setAttributes(attributes: SpanAttributes): void {
    this.#span.setAttributes(definedAttributes(attributes));
  }

  recordError(error: unknown): void {
    recordError(this.#span, error);
  }
}

class OtelClientSpan implements ClientSpan {
  readonly span: Span;
  readonly context: Context;
  readonly headers: readonly PropagationHeader[];
  /** The AWS service of an SDK call, whose output may name its resource. */
  readonly #awsService: string | undefined;
  #ended = false;

  constructor(span: Span, context: Context, propagator: TextMapPropagator, awsService: string | undefined) {
    this.span = span;
    this.context = context;
    this.headers = injectedHeaders(propagator, context);
    this.#awsService = awsService;
  }

  end(outcome: CallOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.span;
    if (span.isRecording()) {
      span.setAttributes(outcomeAttributes(outcome));
      if (this.#awsService !== undefined)
        span.setAttributes(awsOutputAttributes(this.#awsService, outcome.output));
      if (outcome.error !== undefined) {
        recordError(span, outcome.error);
      } else if (outcome.statusCode !== undefined && outcome.statusCode >= 400) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute('error.type', String(outcome.statusCode));
      }
    }
    span.end();
  }

  discard(): void {
    // A span never ended is never exported: nothing else holds it.
    this.#ended = true;
  }
}

/**
 * The OpenTelemetry backend: the trace SDK's tracer provider with X-Ray trace ids, the X-Ray propagator and
 * sampler, a batch span processor, and the OTLP exporter `OTEL_EXPORTER_OTLP_*` names. It registers
 * itself as OpenTelemetry's global provider, context manager and propagator when none is, so code
 * and instrumentations using `@opentelemetry/api` join the kit's traces.
 */
class OtelBackend implements TracingBackend {
  readonly name = 'otel' as const;
  readonly description: BackendDescription;
  readonly #logger: Logger;
  readonly #provider: SdkTracerProvider;
  readonly #tracer: Tracer;
  readonly #ids: XrayIdGenerator;
  readonly #contextManager: RequestContextManager;
  readonly #exporterOrigin: string | undefined;
  readonly #requestFields: boolean;
  /** The propagators `tracing.propagators` names, as one. */
  readonly #propagator: TextMapPropagator;
  /** The W3C Baggage propagator, when `tracing.propagators` names it: reads a request's `baggage`. */
  readonly #baggage: TextMapPropagator | undefined;
  readonly #registered = { trace: false, context: false, propagation: false };
  /** Unregisters through the other loaded copies of the API the kit's provider was handed to. */
  #disableOtherCopies: () => void = () => {};
  readonly #stopSampler: () => void;
  #shutdown: Promise<void> | undefined;
  /** For the log lines of a request: the span current where a line is written. */
  readonly #spanIds: SpanIdReader = {
    current: (request) => {
      const own = requestTrace(this, request)?.span;
      const scoped = this.#contextManager.scoped();
      if (scoped === undefined || own === undefined) return sampledSpanId(own);
      const span = trace.getSpan(scoped);
      // A span of another trace (a root span started inside the request, a context carried over from
      // another request) would point the line's traceId at a span that is not in it.
      return span !== undefined && span.spanContext().traceId === own.spanContext().traceId
        ? sampledSpanId(span)
        : undefined;
    },
    ofRequest: (request) => sampledSpanId(requestTrace(this, request)?.span),
  };

  constructor(
    options: OtelBackendOptions,
    sdk: TraceSdk,
    parts: OtelBackendParts,
    exporter: OutageReportingExporter | undefined,
    description: BackendDescription,
  ) {
    this.description = description;
    this.#logger = options.logger;
    this.#ids = new XrayIdGenerator();
    this.#requestFields = options.tracing.requestFields;
    this.#propagator = createPropagator(options.tracing.propagators);
    this.#baggage = options.tracing.propagators.includes('baggage')
      ? createPropagator(['baggage'])
      : undefined;
    this.#contextManager = new RequestContextManager((request) => requestOtelContext(this, request));
    const { batch, spanLimits } = options.tracing.sdk;
    const processors: SpanProcessor[] =
      exporter === undefined ? [] : [gateQueue(sdk.createBatchProcessor(exporter, batch), exporter)];
    this.#provider = new sdk.TracerProvider({
      resource: parts.resource,
      idGenerator: this.#ids,
      sampler: parts.sampler.sampler,
      spanProcessors: processors,
      spanLimits: { ...spanLimits },
    });
    this.#stopSampler = parts.sampler.stop;
    markKitTracerProvider(this.#provider);
    this.#tracer = this.#provider.getTracer('apprunner-kit');
    this.#exporterOrigin =
      typeof description.endpoint === 'string' ? originOf(description.endpoint) : undefined;
    this.#register();
    useTracerProvider(this.#provider, this.#logger);
  }

  /**
   * Registers the kit's provider, context manager and propagator as OpenTelemetry's globals, each
   * unless something registered one already (another SDK, an APM agent): registering it again fails,
   * and the API reports that through its diagnostic logger (`Attempted duplicate registration of
   * API`), which some SDKs print.
   */
  #register(): void {
    const taken = registeredGlobals();
    if (!taken.context) this.#registered.context = contextApi.setGlobalContextManager(this.#contextManager);
    if (!taken.trace) this.#registerTracerProvider();
    if (!taken.propagation) this.#registered.propagation = propagation.setGlobalPropagator(this.#propagator);
    const notRegistered = Object.entries(this.#registered)
      .filter(([, registered]) => !registered)
      .map(([name]) => name);
    if (notRegistered.length > 0) {
      this.#logger.warn(
        { tracing: { notRegistered } },
        `another SDK registered OpenTelemetry's globals first (${notRegistered.join(', ')}): the kit traces and exports on its own, but @opentelemetry/api calls in your code and the other SDK's instrumentations use the other one, and their spans do not join the kit's traces`,
      );
    }
  }

  /**
   * Registers the kit's tracer provider, and hands it to the other loaded copies of the API (its
   * CommonJS build beside the kit's ESM build, on api 1.10), whose tracers taken before would make no
   * spans: see {@link otherApiCopies}.
   */
  #registerTracerProvider(): void {
    const copies = otherApiCopies(trace);
    this.#registered.trace = trace.setGlobalTracerProvider(this.#provider);
    if (!this.#registered.trace) return;
    const followed = followKitProvider(copies, trace, this.#provider);
    this.#disableOtherCopies = followed.disable;
    const { apart } = followed;
    if (apart.length > 0) {
      this.#logger.warn(
        { tracing: { otherApiCopies: apart } },
        `another copy of @opentelemetry/api is loaded whose version does not follow the one the kit registered its tracer provider with (${apart.join(', ')}): spans of the instrumentations and code that use it are not recorded; install one copy (npm ls @opentelemetry/api)`,
      );
    }
  }

  startRequest(
    context: RequestContext,
    request: IncomingRequestInfo,
    header: TraceHeader | undefined,
    received: ReceivedPropagation | undefined,
  ): StartedRequest {
    let parent = ROOT_CONTEXT;
    if (header !== undefined) {
      parent = contextFromHeader(ROOT_CONTEXT, header, received?.tracestate);
      if (header.parent === undefined) this.#ids.pin(toHexTraceId(header.root));
    }
    if (received?.baggage !== undefined && this.#baggage !== undefined)
      parent = this.#baggage.extract(parent, received, defaultTextMapGetter);
    const method = normaliseMethod(request.method);
    let span: Span;
    try {
      span = this.#tracer.startSpan(
        serverSpanName(method.method, undefined),
        { kind: SpanKind.SERVER, attributes: serverAttributes(request, method) },
        parent,
      );
    } finally {
      this.#ids.pin(undefined);
    }
    const traced: RequestTrace = { parent, span, method: method.method, context: undefined };
    setTracingState(context, this, traced, this.#spanIds);
    const spanContext = span.spanContext();
    return {
      traceId: xrayTraceId(spanContext.traceId) ?? header?.root ?? newTraceId(),
      sampled: (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED,
    };
  }

  finishRequest(context: RequestContext, outcome: RequestOutcome): void {
    const request = requestTrace(this, context);
    if (request === undefined) return;
    const { span } = request;
    if (span.isRecording()) {
      const { statusCode } = outcome;
      if (statusCode !== undefined) span.setAttribute('http.response.status_code', statusCode);
      if (this.#requestFields) setRequestFieldAttributes(span, context);
      if (outcome.route !== undefined) {
        span.setAttribute('http.route', outcome.route);
        span.updateName(serverSpanName(request.method, outcome.route));
      }
      // The route's error, as its adapter reported it: the span's exception event (X-Ray's cause).
      if (outcome.error !== undefined) recordException(span, outcome.error);
      if (statusCode !== undefined && statusCode >= 500) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute('error.type', String(statusCode));
      } else if (outcome.aborted) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: 'the connection closed before the response ended',
        });
        span.setAttribute('error.type', 'aborted');
      } else if (outcome.failedDespiteStatus === true) {
        // Reported on a response that says it went well (a GraphQL 200 with `errors`): the request
        // failed, as its line says. A 4xx's error stays a client's, its span's status unset.
        recordError(span, outcome.error);
      }
    }
    span.end();
  }

  startClientSpan(call: OutgoingCall): ClientSpan | undefined {
    const active = this.#contextManager.active();
    if (isTracingSuppressed(active) || trace.getSpan(active) === undefined) return undefined;
    if (call.kind === 'http' && this.#exporterOrigin !== undefined && this.#isExporter(call))
      return undefined;
    const { name, attributes } = clientSpan(call);
    const span = this.#tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, active);
    const awsService = call.kind === 'aws' ? call.service : undefined;
    return new OtelClientSpan(span, trace.setSpan(active, span), this.#propagator, awsService);
  }

  #isExporter(call: OutgoingCall & { kind: 'http' }): boolean {
    const port = call.port ?? (call.protocol === 'https:' ? 443 : 80);
    return `${call.protocol}//${call.host}:${port}` === this.#exporterOrigin;
  }

  withClientSpan<T>(span: ClientSpan, fn: () => T): T {
    if (!(span instanceof OtelClientSpan)) return fn();
    return this.#contextManager.with(suppressTracing(span.context), fn);
  }

  span<T>(name: string, fn: (span: SpanHandle) => T, options: SpanOptions = {}): T {
    // An explicit parent (a message's trace header) continues that trace instead of the current one.
    const explicit = options.parent === undefined ? undefined : parseTraceContext(options.parent);
    const parent =
      explicit === undefined ? this.#contextManager.active() : contextFromHeader(ROOT_CONTEXT, explicit);
    // A header with a Root and no Parent: the new span is the trace's root, with the caller's trace id.
    if (explicit !== undefined && explicit.parent === undefined) this.#ids.pin(toHexTraceId(explicit.root));
    let span: Span;
    try {
      span = this.#tracer.startSpan(
        name,
        {
          kind: kinds[options.kind ?? 'internal'] ?? SpanKind.INTERNAL,
          attributes: definedAttributes(options.attributes),
          links: spanLinks(options.links),
        },
        parent,
      );
    } finally {
      if (explicit !== undefined && explicit.parent === undefined) this.#ids.pin(undefined);
    }
    const handle = new OtelSpanHandle(span);
    const end = (ending: SpanEnding): void => {
      if (ending !== undefined) recordError(span, ending.value);
      span.end();
    };
    return this.#contextManager.with(trace.setSpan(parent, span), () => runInSpan(() => fn(handle), end));
  }

  setAttributes(attributes: SpanAttributes): void {
    trace.getSpan(this.#contextManager.active())?.setAttributes(definedAttributes(attributes));
  }

  currentTraceId(): string | undefined {
    const spanContext = trace.getSpanContext(this.#contextManager.active());
    if (spanContext !== undefined && isSpanContextValid(spanContext)) return xrayTraceId(spanContext.traceId);
    return getRequestContext()?.traceId;
  }

  currentTraceHeader(): string | undefined {
    return headerFor(this.#contextManager.active());
  }

  currentPropagationHeaders(): PropagationHeader[] {
    return injectedHeaders(this.#propagator, this.#contextManager.active());
  }

  async flush(): Promise<void> {
    try {
      await this.#provider.forceFlush();
    } catch {
      // A failed export is logged by the exporter, once per outage.
    }
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#stop();
    return this.#shutdown;
  }

  async #stop(): Promise<void> {
    this.#stopSampler();
    if (this.#registered.trace) {
      trace.disable();
      this.#disableOtherCopies();
    }
    if (this.#registered.propagation) propagation.disable();
    try {
      await this.#provider.shutdown();
    } catch (error) {
      this.#logger.warn({ err: error }, 'tracer shutdown: the last spans could not be exported');
    }
    // Last: the batch processor's final export runs with the exporter's requests suppressed through it.
    if (this.#registered.context) contextApi.disable();
  }
}

function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    const port = parsed.port === '' ? (parsed.protocol === 'https:' ? '443' : '80') : parsed.port;
    return `${parsed.protocol}//${parsed.hostname}:${port}`;
  } catch {
    return undefined;
  }
}

/**
 * Builds the OpenTelemetry backend from the validated settings, on the trace SDK `sdk`.
 *
 * @throws MissingDependencyError (`ARK_DEPENDENCY_MISSING`) when the exporter package of the protocol is missing.
 */
export async function createOtelBackend(options: OtelBackendOptions, sdk: TraceSdk): Promise<TracingBackend> {
  const sdkName = `${sdk.packageName}@${sdk.version}`;
  const platform = await detectPlatformResource(options.tracing.platform);
  const withPlatform = { ...options, platformAttributes: platform.attributes };
  const resource = defaultResource().merge(resourceFromAttributes(resourceAttributes(withPlatform)));
  const sampler = await chooseSampler(sdk, options.tracing, resource, options.logger);
  const parts: OtelBackendParts = { resource, sampler };
  const sampling = {
    sampler: sampler.name,
    ...(sampler.note === undefined ? {} : { sampling: sampler.note }),
  };
  const detected = platform.outcome === 'none' ? {} : { resource: platform.outcome };
  if (options.tracing.exporter === 'none') {
    return new OtelBackend(withPlatform, sdk, parts, undefined, {
      exporter: 'none',
      ...sampling,
      sdk: sdkName,
      ...detected,
    });
  }
  const target = resolveExportTarget(options.tracing);
  const exporter = new OutageReportingExporter(
    await loadExporter(target),
    options.logger,
    target,
    options.tracing.sdk.batch.maxQueueSize,
  );
  return new OtelBackend(withPlatform, sdk, parts, exporter, {
    ...detected,
    sdk: sdkName,
    exporter: 'otlp',
    protocol: target.protocol,
    protocolFrom: target.protocolFrom,
    endpoint: target.shownUrl,
    ...sampling,
  });
}
