import AWSXRay from 'aws-xray-sdk-core';
import type { Logger } from 'pino';
import type {
  CloudPlatform,
  TracePropagator,
  TracingConfig,
  XrayDaemonAddress,
} from '../../config/tracing.js';
import {
  getRequestContext,
  type ReceivedPropagation,
  type RequestContext,
  type SpanIdReader,
} from '../../http/context.js';
import type {
  BackendDescription,
  ClientSpan,
  OutgoingCall,
  RequestOutcome,
  StartedRequest,
  TracingBackend,
} from '../backend.js';
import type { IncomingRequestInfo } from '../incoming-request.js';
import { type PropagationHeader, propagationHeaders, xrayHeaderOf } from '../propagation.js';
import { requestFieldAttributes } from '../request-attributes.js';
import { runInSpan, type SpanEnding } from '../run-in-span.js';
import { newTraceId, parseTraceContext, type TraceHeader } from '../trace-header.js';
import type { SpanAttributes, SpanHandle, SpanOptions } from '../tracer.js';
import {
  type AwsResourceFields,
  addError,
  awsResourceFields,
  callFields,
  flagStatus,
  incomingRequestData,
  recordAttributes,
  recordCause,
  xrayName,
} from './attributes.js';
import { DaemonStatus } from './daemon-status.js';
import { DaemonEmitter } from './emitter.js';
import {
  type Entity,
  entityClasses,
  type KitSegmentFields,
  type Subsegment,
  type TraceState,
  XrayClientSpan,
  XraySpanHandle,
} from './entities.js';
import {
  notSampled,
  type SamplingDecision,
  sampledLocally,
  startSampler,
  type XraySampler,
} from './sampling.js';
import { ScopeManager } from './scope.js';
import { loadSdkInternals, type SampleRequest } from './sdk-internals.js';
import { type SdkLogger, sdkLogger } from './sdk-logger.js';

/** What the X-Ray SDK backend is built from. */
export interface XrayBackendOptions {
  readonly tracing: TracingConfig;
  readonly service: string;
  readonly version: string | undefined;
  readonly region: string | undefined;
  readonly logger: Logger;
}

/** Where the daemon listens when `AWS_XRAY_DAEMON_ADDRESS` is not set, as the SDKs assume. */
const defaultDaemonAddress: XrayDaemonAddress = Object.freeze({
  udp: Object.freeze({ host: '127.0.0.1', port: 2000 }),
  tcp: Object.freeze({ host: '127.0.0.1', port: 2000 }),
});

/**
 * What work outside a request is sampled as. The SDK's samplers take a missing host, method or path
 * for "any", so the first rule (`POST /orders*`) would decide a background job; a value that only `*`
 * matches leaves it to the catch-all rules and the default, locally and centrally.
 */
const outsideRequests = Object.freeze({ host: '\u0000', httpMethod: '\u0000', urlPath: '\u0000' });

/** `tracer.span`'s `links` that name a parent span, as `{ traceId, parentId }`. */
function linkedTraces(values: readonly string[] | undefined): { traceId: string; parentId: string }[] {
  const links: { traceId: string; parentId: string }[] = [];
  for (const value of values ?? []) {
    const header = parseTraceContext(value);
    if (header?.parent !== undefined) links.push({ traceId: header.root, parentId: header.parent });
  }
  return links;
}

/** The id of the scope's segment or subsegment, when its trace is sampled (else it is sent nowhere). */
function sampledEntityId(scope: XrayScope | undefined): string | undefined {
  return scope?.trace.sampled === true ? scope.entity.id : undefined;
}

/** The current segment or subsegment, and its trace. */
interface XrayScope {
  readonly entity: Entity;
  readonly trace: TraceState;
  /** Inside an outgoing call: the client instrumentation below it adds no subsegment. */
  readonly suppressed: boolean;
  /** The scope around a span's: where new work goes once the span has ended. */
  readonly outer?: XrayScope | undefined;
}

/**
 * The segment's `origin` on each platform, as the AWS X-Ray exporter of the OpenTelemetry Collector
 * (ADOT's) writes it from `cloud.platform`; a platform left out gets no origin.
 */
const origins: Readonly<Partial<Record<CloudPlatform, string>>> = {
  aws_app_runner: 'AWS::AppRunner::Service',
  aws_ec2: 'AWS::EC2::Instance',
  aws_ecs: 'AWS::ECS::Container',
  aws_eks: 'AWS::EKS::Container',
  aws_elastic_beanstalk: 'AWS::ElasticBeanstalk::Environment',
};

/**
 * The X-Ray SDK backend: a segment per request built with `aws-xray-sdk-core`'s classes, subsegments
 * for outgoing calls and `runtime.tracer.span()`, sampled by the SDK's samplers and sent over UDP to
 * the daemon as each segment closes. The SDK runs in manual mode: the kit keeps the current segment
 * in its own request context ({@link ScopeManager}) and passes segments explicitly.
 */
class XrayBackend implements TracingBackend {
  readonly name = 'xray' as const;
  readonly description: BackendDescription;
  readonly #logger: Logger;
  readonly #name: string;
  readonly #origin: string | undefined;
  readonly #service: object;
  readonly #daemon: XrayDaemonAddress;
  readonly #scopes = new ScopeManager<XrayScope>();
  readonly #requestFields: boolean;
  readonly #propagators: readonly TracePropagator[];
  /** For the log lines of a request: the segment or subsegment current where a line is written. */
  readonly #spanIds: SpanIdReader = {
    current: (request) => {
      const scope = this.#scopes.active();
      // A subsegment of another trace (tracer.span with an explicit parent, inside the request) would
      // point the line's traceId at an entity that is not in it.
      return scope?.trace.traceId === this.#scopes.ofRequest(request)?.trace.traceId
        ? sampledEntityId(scope)
        : undefined;
    },
    ofRequest: (request) => sampledEntityId(this.#scopes.ofRequest(request)),
  };
  readonly #emitter: DaemonEmitter;
  readonly #sampler: XraySampler;
  readonly #sdkLogger: SdkLogger;
  readonly #previousSdkLogger: unknown;
  readonly #awsResources: AwsResourceFields;
  readonly #KitSegment: ReturnType<typeof entityClasses>['KitSegment'];
  readonly #KitSubsegment: ReturnType<typeof entityClasses>['KitSubsegment'];
  #shutdown: Promise<void> | undefined;

  constructor(
    options: XrayBackendOptions,
    parts: {
      daemon: XrayDaemonAddress;
      emitter: DaemonEmitter;
      sampler: XraySampler;
      sdkLogger: SdkLogger;
      previousSdkLogger: unknown;
      awsResources: AwsResourceFields;
    },
  ) {
    this.#logger = options.logger;
    this.#requestFields = options.tracing.requestFields;
    this.#propagators = options.tracing.propagators;
    // As the SDK's middleware: AWS_XRAY_TRACING_NAME wins over the name the code gives
    // (mw_utils.setDefaultName), here the service.
    this.#name = xrayName(options.tracing.xrayTracingName ?? options.service, 'service');
    this.#origin = options.tracing.platform === undefined ? undefined : origins[options.tracing.platform];
    this.#service = Object.freeze({
      name: options.service,
      version: options.version ?? 'unknown',
      runtime: 'node',
      runtime_version: process.version,
    });
    this.#daemon = parts.daemon;
    this.#emitter = parts.emitter;
    this.#sampler = parts.sampler;
    this.#sdkLogger = parts.sdkLogger;
    this.#previousSdkLogger = parts.previousSdkLogger;
    this.#awsResources = parts.awsResources;
    const classes = entityClasses(parts.emitter);
    this.#KitSegment = classes.KitSegment;
    this.#KitSubsegment = classes.KitSubsegment;
    const { udp, tcp } = parts.daemon;
    this.description = {
      daemon: `${udp.host}:${udp.port}`,
      ...(tcp.host === udp.host && tcp.port === udp.port
        ? {}
        : { samplingEndpoint: `${tcp.host}:${tcp.port}` }),
      sampling: options.tracing.xray.sampling,
      samplingRules: options.tracing.xray.samplingRules === undefined ? 'default' : 'configured',
    };
  }

  /** A new segment of this service, with what a sampled one records from the start. */
  #segment(traceId: string, parent: string | undefined, decision: SamplingDecision): KitSegmentFields {
    const segment: KitSegmentFields = new this.#KitSegment(this.#name, traceId, parent ?? null);
    if (!decision.sampled) {
      segment.notTraced = true;
      return segment;
    }
    segment.service = this.#service;
    if (this.#origin !== undefined) segment.origin = this.#origin;
    if (decision.rule !== undefined) segment.setMatchedSamplingRule(decision.rule);
    return segment;
  }

  #sampleRequest(request: IncomingRequestInfo | undefined): SampleRequest {
    if (request === undefined)
      return { ...outsideRequests, serviceName: this.#name, serviceType: this.#origin };
    return {
      host: request.host,
      httpMethod: request.method,
      urlPath: request.path,
      serviceName: this.#name,
      serviceType: this.#origin,
    };
  }

  startRequest(
    context: RequestContext,
    request: IncomingRequestInfo,
    header: TraceHeader | undefined,
    received: ReceivedPropagation | undefined,
  ): StartedRequest {
    const traceId = header?.root ?? newTraceId();
    const decision: SamplingDecision =
      header?.sampled === '1'
        ? sampledLocally
        : header?.sampled === '0'
          ? notSampled
          : this.#sampler.decide(this.#sampleRequest(request));
    const segment = this.#segment(traceId, header?.parent, decision);
    if (decision.sampled) segment.http = { request: incomingRequestData(request) };
    this.#scopes.setRequest(
      context,
      {
        entity: segment as Entity,
        trace: { traceId, sampled: decision.sampled, lineage: header?.lineage, received },
        suppressed: false,
      },
      this.#spanIds,
    );
    return { traceId, sampled: decision.sampled };
  }

  finishRequest(context: RequestContext, outcome: RequestOutcome): void {
    const scope = this.#scopes.ofRequest(context);
    if (scope === undefined) return;
    const segment = scope.entity as KitSegmentFields & Entity;
    if (!scope.trace.sampled) {
      // Ended, not sent: what the request left running no longer adds to it (see #open).
      segment.in_progress = false;
      return;
    }
    try {
      if (this.#requestFields) recordAttributes(segment, requestFieldAttributes(context));
      const { statusCode, contentLength } = outcome;
      if (statusCode !== undefined) {
        segment.http = {
          ...segment.http,
          response:
            contentLength === undefined
              ? { status: statusCode }
              : { status: statusCode, content_length: contentLength },
        };
      }
      flagStatus(segment, statusCode);
      // The route's error (as its adapter reported it); thrown in a span, the SDK names that span's cause.
      if (outcome.error !== undefined) recordCause(segment, outcome.error);
      if (outcome.route !== undefined) segment.addAnnotation('http_route', outcome.route);
      if (outcome.aborted && (statusCode === undefined || statusCode < 500)) {
        segment.addError('the connection closed before the response ended');
      }
    } finally {
      // Whatever a recording met, the segment ends and is sent: unclosed, work left running would
      // add to it for the life of the process.
      segment.close();
    }
    // The SDK sends a segment once its subsegments are closed too; one still open (a response body
    // never read) would hold the request's segment back forever. Send it now, with that subsegment
    // in progress; the SDK sends it again, complete, if the subsegment ends later.
    if ((segment.counter ?? 0) > 0) segment.flush();
  }

  /**
   * The innermost scope whose segment or subsegment is still open. What a request or a span left
   * running (a timer, a cache refreshed on first use) is not added to a segment sent already, which
   * the SDK would send again, whole, for every call: once the request's segment has closed (sent, or
   * ended unsent when the request was not sampled), its work runs as outside any request (calls not
   * traced, a span a trace of its own).
   */
  #open(): XrayScope | undefined {
    let scope = this.#scopes.active();
    while (scope?.entity.isClosed() === true) scope = scope.outer;
    return scope;
  }

  startClientSpan(call: OutgoingCall): ClientSpan | undefined {
    const scope = this.#open();
    if (scope === undefined || scope.suppressed) return undefined;
    if (call.kind === 'http' && this.#isSamplingEndpoint(call)) return undefined;
    const { name, fields } = callFields(call);
    const subsegment = new this.#KitSubsegment(name) as Entity & Subsegment;
    Object.assign(subsegment, fields);
    scope.entity.addSubsegment(subsegment);
    return new XrayClientSpan(call, subsegment, scope.trace, this.#propagators, this.#awsResources);
  }

  #isSamplingEndpoint(call: OutgoingCall & { kind: 'http' }): boolean {
    const { tcp } = this.#daemon;
    return call.host === tcp.host && (call.port ?? 80) === tcp.port;
  }

  withClientSpan<T>(span: ClientSpan, fn: () => T): T {
    if (!(span instanceof XrayClientSpan)) return fn();
    return this.#scopes.with({ entity: span.subsegment, trace: span.trace, suppressed: true }, fn);
  }

  span<T>(name: string, fn: (span: SpanHandle) => T, options: SpanOptions = {}): T {
    const parent = this.#open();
    // An explicit parent (a message's trace header) continues that trace instead of the current one.
    const explicit = options.parent === undefined ? undefined : parseTraceContext(options.parent);
    let root: KitSegmentFields | undefined;
    let trace: TraceState;
    let parentEntity: Entity;
    if (parent === undefined || explicit !== undefined) {
      // Outside any request, or continuing a message's trace: a segment of the service holds the
      // span, in a new trace or in the caller's (a child of its Parent, with its sampling decision).
      const traceId = explicit?.root ?? newTraceId();
      const decision =
        explicit?.sampled === '1'
          ? sampledLocally
          : explicit?.sampled === '0'
            ? notSampled
            : this.#sampler.decide(this.#sampleRequest(undefined));
      root = this.#segment(traceId, explicit?.parent, decision);
      trace = { traceId, sampled: decision.sampled, lineage: explicit?.lineage };
      parentEntity = root as KitSegmentFields & Entity;
    } else {
      trace = parent.trace;
      parentEntity = parent.entity;
    }
    const subsegment = new this.#KitSubsegment(xrayName(name, 'span')) as Entity & Subsegment;
    if (options.kind === 'client' || options.kind === 'producer') subsegment.namespace = 'remote';
    parentEntity.addSubsegment(subsegment);
    if (trace.sampled) recordAttributes(subsegment, options.attributes);
    const links = linkedTraces(options.links);
    // X-Ray segments have no links: kept as metadata, where the console shows them.
    if (trace.sampled && links.length > 0) subsegment.addMetadata('links', links, 'apprunner-kit');
    const handle = new XraySpanHandle(subsegment, trace);
    const end = (error: SpanEnding) => {
      if (error !== undefined && trace.sampled) addError(subsegment, error.value);
      subsegment.close();
      root?.close();
    };
    const scope: XrayScope = {
      entity: subsegment,
      trace,
      suppressed: explicit === undefined ? (parent?.suppressed ?? false) : false,
      outer: parent,
    };
    return this.#scopes.with(scope, () => runInSpan(() => fn(handle), end));
  }

  setAttributes(attributes: SpanAttributes): void {
    const scope = this.#open();
    if (scope?.trace.sampled === true) recordAttributes(scope.entity, attributes);
  }

  currentTraceId(): string | undefined {
    return this.#scopes.active()?.trace.traceId ?? getRequestContext()?.traceId;
  }

  currentTraceHeader(): string | undefined {
    const scope = this.#open();
    return scope === undefined ? undefined : xrayHeaderOf({ ...scope.trace, spanId: scope.entity.id });
  }

  currentPropagationHeaders(): PropagationHeader[] {
    const scope = this.#open();
    return scope === undefined
      ? []
      : propagationHeaders(this.#propagators, { ...scope.trace, spanId: scope.entity.id });
  }

  flush(): Promise<void> {
    return this.#emitter.flush();
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#stop();
    return this.#shutdown;
  }

  async #stop(): Promise<void> {
    try {
      this.#sampler.stop();
      if (AWSXRay.getLogger() === this.#sdkLogger) AWSXRay.setLogger(this.#previousSdkLogger as SdkLogger);
      await this.#emitter.close();
    } catch (error) {
      this.#logger.warn({ err: error }, 'tracing: the X-Ray backend did not stop cleanly');
    }
  }
}

/**
 * Builds the X-Ray SDK backend from the validated settings: routes the SDK's log calls to the kit's
 * logger, opens the UDP socket to the daemon and starts the sampler.
 *
 * @example
 * ```ts
 * const { createXrayBackend } = await loadXrayBackend(config.tracing.xrayDaemonAddress);
 * const backend = await createXrayBackend({ tracing: config.tracing, service, version, region, logger });
 * ```
 *
 * @throws Error when the installed `aws-xray-sdk-core` is not a 3.x layout the kit supports.
 */
export async function createXrayBackend(options: XrayBackendOptions): Promise<TracingBackend> {
  const { logger, tracing } = options;
  const daemon = tracing.xrayDaemonAddress ?? defaultDaemonAddress;
  const internals = await loadSdkInternals();
  const centralized = tracing.xray.sampling === 'centralized';
  const status = new DaemonStatus(
    logger,
    centralized && (daemon.tcp.host !== daemon.udp.host || daemon.tcp.port !== daemon.udp.port)
      ? `udp ${daemon.udp.host}:${daemon.udp.port}, tcp ${daemon.tcp.host}:${daemon.tcp.port}`
      : `${daemon.udp.host}:${daemon.udp.port}`,
    centralized,
  );
  const previousSdkLogger = AWSXRay.getLogger();
  const routed = sdkLogger(logger, status);
  AWSXRay.setLogger(routed);
  if (AWSXRay.isAutomaticMode()) {
    logger.warn(
      { tracing: { backend: 'xray' } },
      'aws-xray-sdk-core was loaded in automatic mode before the kit started: its async hook slows every ' +
        'asynchronous operation, and the kit does not use it. Let the kit load the SDK, or set AWS_XRAY_MANUAL_MODE=true.',
    );
  }
  const emitter = new DaemonEmitter(daemon.udp, status, logger);
  const sampler = startSampler(internals, tracing.xray, daemon, status);
  return new XrayBackend(options, {
    daemon,
    emitter,
    sampler,
    sdkLogger: routed,
    previousSdkLogger,
    awsResources: awsResourceFields(internals.awsAttributes),
  });
}
