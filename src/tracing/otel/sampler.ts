import {
  type Attributes,
  type Context,
  isSpanContextValid,
  type Link,
  SamplingDecision,
  type SpanKind,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import type { Sampler, SamplingResult } from '@opentelemetry/sdk-trace-base';
import type { TracesSampler } from '../../config/tracing.js';
import { samplingHintKey } from './propagator.js';
import type { TraceSdk } from './trace-sdk.js';

const sampled: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });
const dropped: SamplingResult = Object.freeze({ decision: SamplingDecision.NOT_RECORD });

function byFlags(flags: number): SamplingResult {
  return (flags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? sampled : dropped;
}

/**
 * OpenTelemetry's parent-based sampling, made to read X-Ray headers: a local parent's decision is
 * followed; so is the caller's `Sampled=1` or `Sampled=0`, with or without `Parent=`; with
 * `Sampled=?` or no `Sampled=`, the callee decides — the `root` sampler, as for a new trace.
 */
export class XrayParentBasedSampler implements Sampler {
  readonly #root: Sampler;

  constructor(root: Sampler) {
    this.#root = root;
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    const parent = trace.getSpanContext(context);
    const validParent = parent !== undefined && isSpanContextValid(parent);
    if (validParent && parent.isRemote !== true) return byFlags(parent.traceFlags);
    const hint = context.getValue(samplingHintKey);
    if (hint === '1') return sampled;
    if (hint === '0') return dropped;
    if (hint !== 'defer' && validParent) return byFlags(parent.traceFlags);
    return this.#root.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `XrayParentBased{root=${this.#root.toString()}}`;
  }
}

/**
 * The sampler `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` name (default
 * `parentbased_always_on`), built from the samplers of `sdk`'s line.
 */
export function createSampler(
  sdk: TraceSdk,
  name: TracesSampler | undefined,
  arg: number | undefined,
): Sampler {
  const { AlwaysOffSampler, AlwaysOnSampler, TraceIdRatioBasedSampler } = sdk;
  const ratio = () => new TraceIdRatioBasedSampler(arg ?? 1);
  switch (name ?? 'parentbased_always_on') {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new XrayParentBasedSampler(new AlwaysOffSampler());
    case 'parentbased_traceidratio':
      return new XrayParentBasedSampler(ratio());
    default:
      return new XrayParentBasedSampler(new AlwaysOnSampler());
  }
}
