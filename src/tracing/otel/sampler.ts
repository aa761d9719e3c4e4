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
import type { Resource } from '@opentelemetry/resources';
import type { Sampler, SamplingResult } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { TracesSampler, TracingConfig } from '../../config/tracing.js';
import { type SamplingHintValue, samplingHintKey } from './propagator.js';
import type { TraceSdk } from './trace-sdk.js';
import { XrayDefaultRuleSampler, xrayDefaultRule } from './xray-default-rule.js';
import { createXrayRemoteSampler } from './xray-remote-sampler.js';

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
    const told = context.getValue(samplingHintKey) as SamplingHintValue | undefined;
    const hint = told?.parent === (validParent ? parent.spanId : undefined) ? told?.hint : undefined;
    if (hint === '1') return sampled;
    if (hint === '0') return dropped;
    if (hint !== 'defer' && validParent) return byFlags(parent.traceFlags);
    // `Sampled=?`: the root decides as for a new trace, parent-based roots (the X-Ray remote sampler) too.
    const root = validParent ? trace.deleteSpan(context) : context;
    return this.#root.shouldSample(root, traceId, spanName, spanKind, attributes, links);
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

/** The sampler the backend runs, and what the start-up line says of it. */
export interface SamplerChoice {
  readonly sampler: Sampler;
  /** `OTEL_TRACES_SAMPLER`'s name, or `parentbased_xray_default_rule` for the default on AWS. */
  readonly name: string;
  /** Why, or from where, when it is not what the variable names. */
  readonly note: string | undefined;
  /** Stops the background polling (the `xray` sampler). */
  readonly stop: () => void;
}

/**
 * Chooses the sampler: the one `OTEL_TRACES_SAMPLER` names; when it names none and tracing turned on
 * by itself (`tracing.mode` `auto`) on an AWS platform (see recognisePlatform), X-Ray's default
 * rule, parent-based — OpenTelemetry's default records every request, and X-Ray bills per trace
 * recorded: at 1,000 requests per second, ~2.6 billion traces a month, against ~0.13 billion with
 * the rule.
 *
 * @throws MissingDependencyError (`ARK_DEPENDENCY_MISSING`) for `xray` without `@opentelemetry/sampler-aws-xray`.
 */
export async function chooseSampler(
  sdk: TraceSdk,
  tracing: Pick<TracingConfig, 'mode' | 'sampler' | 'samplerArg' | 'xrayRules' | 'platform' | 'platformFrom'>,
  resource: Resource,
  logger: Logger,
): Promise<SamplerChoice> {
  const nothing = () => {};
  if (tracing.sampler === 'xray') {
    const remote = await createXrayRemoteSampler(tracing.xrayRules, resource, logger);
    return {
      sampler: new XrayParentBasedSampler(remote),
      name: 'xray',
      note: `rules from ${tracing.xrayRules.endpoint} every ${tracing.xrayRules.pollingIntervalSeconds} s`,
      stop: () => remote.stop(),
    };
  }
  const { platform, platformFrom } = tracing;
  if (tracing.sampler === undefined && tracing.mode === 'auto' && platform !== undefined) {
    const on = platformFrom === undefined ? platform : `${platform} (from ${platformFrom})`;
    const root = new XrayDefaultRuleSampler(new sdk.TraceIdRatioBasedSampler(xrayDefaultRule.fixedRate));
    return {
      sampler: new XrayParentBasedSampler(root),
      name: 'parentbased_xray_default_rule',
      note: `X-Ray's default rule, 1 trace per second then 5 %, is the default on ${on}: X-Ray bills per trace recorded; OTEL_TRACES_SAMPLER=xray follows the console's rules, parentbased_always_on records every request`,
      stop: nothing,
    };
  }
  // A Kubernetes cluster with nothing of AWS beside it may still be EKS (a node role, no region
  // variable): the line says how to have X-Ray's default rule there.
  const kubernetesAlone =
    tracing.sampler === undefined && tracing.mode === 'auto' && platformFrom === 'KUBERNETES_SERVICE_HOST';
  return {
    sampler: createSampler(sdk, tracing.sampler, tracing.samplerArg),
    name: tracing.sampler ?? 'parentbased_always_on',
    note: kubernetesAlone
      ? "Kubernetes with no AWS variable beside it (AWS_REGION, AWS_DEFAULT_REGION, AWS_ROLE_ARN, AWS_CONTAINER_CREDENTIALS_FULL_URI) is not taken for EKS, so every request is recorded; on EKS, set OTEL_RESOURCE_ATTRIBUTES=cloud.platform=aws_eks for X-Ray's default rule"
      : undefined,
    stop: nothing,
  };
}
