import AWSXRay from 'aws-xray-sdk-core';
import type { TracePropagator } from '../../config/tracing.js';
import type { ReceivedPropagation } from '../../http/context.js';
import type { CallOutcome, ClientSpan, OutgoingCall } from '../backend.js';
import { type PropagationHeader, propagationHeaders } from '../propagation.js';
import { newSpanId, newTraceId } from '../trace-header.js';
import type { SpanAttributes, SpanHandle } from '../tracer.js';
import {
  type AwsResourceFields,
  addError,
  recordAttributes,
  recordOutcome,
  type XrayEntity,
  type XrayFields,
} from './attributes.js';
import { type DaemonEmitter, type DocumentIds, maxDocumentBytes } from './emitter.js';
import { fitDocument } from './fit-document.js';

/** The SDK's segment. */
export type Segment = AWSXRay.Segment;
/** The SDK's subsegment. */
export type Subsegment = AWSXRay.Subsegment;
/** A segment or subsegment, as the kit writes on it. */
export type Entity = (Segment | Subsegment) & XrayEntity;
/** A segment with the fields the kit writes on it. */
export type KitSegmentFields = Segment & XrayFields & { service?: object; counter?: number };

/** The trace a scope belongs to. */
export interface TraceState {
  readonly traceId: string;
  readonly sampled: boolean;
  /** The caller's `Lineage=`, forwarded on every outgoing header of the request. */
  readonly lineage: string | undefined;
  /** The W3C headers the request brought (`tracestate`, `baggage`), carried on to its calls. */
  readonly received?: ReceivedPropagation | undefined;
}

/** What the SDK's `SegmentUtils` holds for every new segment (set by `AWSXRay.config([...plugins])`). */
interface SegmentDefaults {
  readonly sdkData?: object;
  readonly pluginData?: object;
  readonly origin?: string;
}

/**
 * A segment document as JSON, as the SDK's `format()` writes it (without its bookkeeping fields, and
 * without an empty `subsegments`), but without the replacer function it passes to `JSON.stringify`:
 * called for every key, it made serialising the largest part of a segment's cost (measured). The
 * replacer is there for BigInt values in metadata, which plain `JSON.stringify` refuses: then the
 * SDK's own `format()` runs.
 */
function formatSegment(segment: Segment & { counter?: number }, sdkFormat: () => string): string {
  const { counter: _counter, notTraced: _notTraced, subsegments, ...document } = segment;
  const withSubsegments =
    subsegments === undefined || subsegments.length === 0 ? document : { ...document, subsegments };
  try {
    return JSON.stringify(withSubsegments);
  } catch {
    return sdkFormat();
  }
}

/**
 * Sends an entity too large for one datagram (`bytes`) in parts, as the X-Ray SDKs stream
 * subsegments: each of its closed subsegments as a document of its own (`flush`, split again when it
 * is too large in turn), taken out of it as the SDK takes out what it streams (so that a later send
 * of the entity, once a subsegment still open ends, does not send them again), then the entity with
 * the open ones; X-Ray joins them by their ids. A request of hundreds of spans would otherwise lose
 * its whole segment (the SDK streams only past a count of open subsegments).
 *
 * The entity alone may still be too large (metadata, annotations, an exception): it is cut to fit
 * first ({@link fitDocument}), and its subsegments are streamed only once it is known to be sent — a
 * subsegment whose parent never arrives is an orphan X-Ray cannot place. One that does not fit even
 * so is dropped, its closed subsegments with it, and counted.
 */
function sendInParts(
  entity: Segment | Subsegment,
  bytes: number,
  emitter: DaemonEmitter,
  ids: EntityIds,
  parentRequired: boolean,
): void {
  const closed: Subsegment[] = [];
  const open: Subsegment[] = [];
  for (const child of entity.subsegments ?? []) {
    if (child.isClosed() && ((child as { counter?: number }).counter ?? 0) <= 0) closed.push(child);
    else open.push(child);
  }
  entity.subsegments = open;
  const fitted = fitDocument(entity as Entity, () => entity.format(), maxDocumentBytes);
  if (fitted === undefined) {
    emitter.oversize.dropped(bytes, ids.traceId);
    return;
  }
  if (fitted.omitted.length > 0) emitter.oversize.shrunk(bytes, ids.traceId);
  for (const child of closed) child.flush();
  emitter.send(ids, parentRequired, () => fitted.document);
}

/** The ids of a segment or subsegment being sent. */
type EntityIds = DocumentIds & { readonly traceId: string | undefined };

/** Sends `entity`'s document; one too large for a datagram goes to {@link sendInParts}. */
function sendEntity(
  emitter: DaemonEmitter,
  entity: Segment | Subsegment,
  ids: EntityIds,
  parentRequired: boolean,
): void {
  emitter.send(
    ids,
    parentRequired,
    () => entity.format(),
    (bytes) => sendInParts(entity, bytes, emitter, ids, parentRequired),
  );
}

/**
 * The SDK's segment and subsegment classes, sending through `emitter` instead of the SDK's own
 * emitter: every document's ids are checked before it leaves (a malformed one never reaches the
 * daemon), the socket reports a daemon that is not there, and a document too large for a datagram
 * is sent in parts, cut to fit when it is too large alone ({@link sendInParts}). Everything else —
 * sending a segment once it and its subsegments are closed, the subsegments' documents, streaming
 * subsegments past the SDK's threshold — is the SDK's.
 *
 * Two costs are taken out of the request path, both measured with `--cpu-prof` under load: the
 * SDK's `init` draws its ids from `crypto.randomBytes` (the segment's id, and a random trace id
 * even when it then parses the given one), about a tenth of a traced request's CPU; these `init`s
 * take the ids from the kit's pooled generator (the one OpenTelemetry mode uses) and otherwise set
 * what the SDK's set. And a segment's JSON is written without the SDK's replacer (see
 * {@link formatSegment}).
 *
 * @example
 * ```ts
 * const { KitSegment, KitSubsegment } = entityClasses(emitter);
 * const segment = new KitSegment('notes-api', traceId, parentId);
 * segment.addSubsegment(new KitSubsegment('load note'));
 * ```
 */
export function entityClasses(emitter: DaemonEmitter) {
  const defaults = AWSXRay.SegmentUtils as unknown as SegmentDefaults;
  const now = AWSXRay.SegmentUtils.getCurrentTime;

  class KitSegment extends AWSXRay.Segment {
    /** Called by the SDK's constructor. `rootId` must be a well-formed trace id (the kit's are). */
    init(name: string, rootId?: string | null, parentId?: string | null): void {
      const fields = this as unknown as Record<string, unknown>;
      this.trace_id = rootId ?? newTraceId();
      this.id = newSpanId();
      this.start_time = now();
      this.name = name;
      this.in_progress = true;
      fields.counter = 0;
      if (parentId) this.parent_id = parentId;
      if (defaults.pluginData !== undefined) this.addPluginData(defaults.pluginData);
      if (defaults.origin !== undefined) this.origin = defaults.origin;
      if (defaults.sdkData !== undefined) this.setSDKData(defaults.sdkData);
    }

    override format(): string {
      return formatSegment(this, () => super.format());
    }

    override flush(): void {
      if (this.notTraced === true) return;
      Reflect.deleteProperty(this, 'exception');
      sendEntity(emitter, this, { traceId: this.trace_id, id: this.id, parentId: this.parent_id }, false);
    }
  }
  class KitSubsegment extends AWSXRay.Subsegment {
    /** Called by the SDK's constructor. */
    init(name: string): void {
      const fields = this as unknown as Record<string, unknown>;
      this.id = newSpanId();
      this.name = name;
      this.start_time = now();
      this.in_progress = true;
      fields.counter = 0;
      this.notTraced = false;
    }

    override flush(): void {
      const segment = this.segment as Segment | undefined;
      if (this.notTraced || segment === undefined || segment.notTraced === true) return;
      const ids = {
        traceId: segment.trace_id,
        id: this.id,
        parentId: (this.parent as { id?: unknown } | undefined)?.id,
      };
      sendEntity(emitter, this, ids, true);
    }
  }
  return { KitSegment, KitSubsegment };
}

/** The span `runtime.tracer.span()` passes to its function: a subsegment. */
export class XraySpanHandle implements SpanHandle {
  readonly #entity: Entity;
  readonly traceId: string;
  readonly #sampled: boolean;

  constructor(entity: Entity, trace: TraceState) {
    this.#entity = entity;
    this.traceId = trace.traceId;
    this.#sampled = trace.sampled;
  }

  get spanId(): string {
    return this.#entity.id;
  }

  setAttributes(attributes: SpanAttributes): void {
    if (this.#sampled) recordAttributes(this.#entity, attributes);
  }

  recordError(error: unknown): void {
    if (this.#sampled) addError(this.#entity, error);
  }
}

/** A subsegment around one outgoing call. */
export class XrayClientSpan implements ClientSpan {
  readonly subsegment: Entity & Subsegment;
  readonly trace: TraceState;
  readonly headers: readonly PropagationHeader[];
  readonly #call: OutgoingCall;
  readonly #awsResources: AwsResourceFields | undefined;
  #ended = false;

  constructor(
    call: OutgoingCall,
    subsegment: Entity & Subsegment,
    trace: TraceState,
    propagators: readonly TracePropagator[],
    awsResources?: AwsResourceFields,
  ) {
    this.#call = call;
    this.#awsResources = awsResources;
    this.subsegment = subsegment;
    this.trace = trace;
    this.headers = propagationHeaders(propagators, { ...trace, spanId: subsegment.id });
  }

  end(outcome: CallOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    const call = this.#call;
    if (this.trace.sampled) {
      recordOutcome(this.subsegment, call, outcome);
      // The resources the service map shows (a table, a queue), as the SDK's own patcher records them.
      const resources = call.kind === 'aws' ? this.#awsResources?.(call, outcome.output) : undefined;
      if (resources !== undefined) this.subsegment.aws = { ...this.subsegment.aws, ...resources };
    }
    this.subsegment.close();
  }

  discard(): void {
    if (this.#ended) return;
    this.#ended = true;
    const parent = this.subsegment.parent as (Entity & SubsegmentParent) | undefined;
    if (parent === undefined) return;
    // As `close()` would, less the subsegment: the parent's count of open subsegments goes down,
    // which sends the segment if it was waiting for this one.
    parent.removeSubsegment(this.subsegment);
    parent.decrementCounter();
  }
}

/** The parent of a subsegment, as far as {@link XrayClientSpan.discard} uses it. */
interface SubsegmentParent {
  removeSubsegment(subsegment: Subsegment): void;
  decrementCounter(): void;
}
