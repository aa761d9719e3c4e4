import {
  type Context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  SamplingDecision,
  SpanKind,
  trace,
} from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Sampler } from '@opentelemetry/sdk-trace-base';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { createPropagator, XrayPropagator } from '../../../src/tracing/otel/propagator.js';
import { chooseSampler, XrayParentBasedSampler } from '../../../src/tracing/otel/sampler.js';
import { loadTraceSdk } from '../../../src/tracing/otel/trace-sdk.js';
import { XrayDefaultRuleSampler } from '../../../src/tracing/otel/xray-default-rule.js';

const sdk = await loadTraceSdk();
const resource = resourceFromAttributes({ 'service.name': 'unit' });
const logger = pino({ level: 'silent' });

function traceId(n: number): string {
  return n.toString(16).padStart(32, '0');
}

function decide(sampler: Sampler, id: string, context: Context = ROOT_CONTEXT) {
  return sampler.shouldSample(context, id, 'GET', SpanKind.SERVER, {}, []).decision;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('XrayDefaultRuleSampler', () => {
  it('records one trace per second from its reservoir, then the fixed rate of the rest', () => {
    vi.useFakeTimers({ now: 1_700_000_000_000, toFake: ['Date'] });
    const never = new XrayDefaultRuleSampler(new sdk.TraceIdRatioBasedSampler(0));
    const decisions = [1, 2, 3].map((n) => decide(never, traceId(n)));
    expect(decisions).toEqual([
      SamplingDecision.RECORD_AND_SAMPLED,
      SamplingDecision.NOT_RECORD,
      SamplingDecision.NOT_RECORD,
    ]);
    vi.advanceTimersByTime(1_000);
    expect(decide(never, traceId(4))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(never, traceId(5))).toBe(SamplingDecision.NOT_RECORD);
  });

  it('samples about 5 % beyond the reservoir, by trace id', () => {
    vi.useFakeTimers({ now: 1_700_000_000_000, toFake: ['Date'] });
    const rule = new XrayDefaultRuleSampler(new sdk.TraceIdRatioBasedSampler(0.05));
    let sampled = 0;
    for (let n = 0; n < 10_000; n++) {
      const id = `${(n * 2_654_435_761).toString(16).padStart(16, '0').slice(-16)}${(n * 40_503).toString(16).padStart(16, '0').slice(-16)}`;
      if (decide(rule, id) === SamplingDecision.RECORD_AND_SAMPLED) sampled += 1;
    }
    // 1 from the reservoir, then ~5 % of 9,999.
    expect(sampled).toBeGreaterThan(350);
    expect(sampled).toBeLessThan(650);
  });
});

describe('XrayParentBasedSampler with a parent-based root', () => {
  it('hands Sampled=? to its root as a new trace, without the unsampled remote parent', () => {
    const seen: boolean[] = [];
    const root: Sampler = {
      shouldSample: (context) => {
        seen.push(trace.getSpanContext(context) !== undefined);
        return { decision: SamplingDecision.RECORD_AND_SAMPLED };
      },
      toString: () => 'recording',
    };
    const header = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?';
    const context = new XrayPropagator().extract(
      ROOT_CONTEXT,
      { 'x-amzn-trace-id': header },
      defaultTextMapGetter,
    );
    expect(decide(new XrayParentBasedSampler(root), '5759e988bd862e3fe1be46a994272793', context)).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(seen).toEqual([false]);
  });
});

describe('XrayParentBasedSampler after both headers were extracted (the global propagator)', () => {
  const never: Sampler = {
    shouldSample: () => ({ decision: SamplingDecision.NOT_RECORD }),
    toString: () => 'never',
  };
  const sampler = new XrayParentBasedSampler(never);
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const extract = (order: Parameters<typeof createPropagator>[0], headers: Record<string, string>) =>
    createPropagator(order).extract(ROOT_CONTEXT, headers, defaultTextMapGetter);

  it("follows the traceparent's flag, not the Sampled= of an X-Amzn-Trace-Id with no Parent", () => {
    const context = extract(['tracecontext', 'baggage', 'xray'], {
      traceparent,
      'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0',
    });
    expect(trace.getSpanContext(context)?.spanId).toBe('00f067aa0ba902b7');
    expect(decide(sampler, '4bf92f3577b34da6a3ce929d0e0e4736', context)).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
  });

  it("follows the traceparent's flag when it replaced the X-Amzn-Trace-Id's parent", () => {
    const context = extract(['xray', 'tracecontext'], {
      traceparent,
      'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0',
    });
    expect(trace.getSpanContext(context)?.spanId).toBe('00f067aa0ba902b7');
    expect(decide(sampler, '4bf92f3577b34da6a3ce929d0e0e4736', context)).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
  });

  it('still follows Sampled= of the X-Amzn-Trace-Id it continues', () => {
    // Sampled=? leaves the parent unsampled: only a followed hint hands the decision to the root.
    const always: Sampler = {
      shouldSample: () => ({ decision: SamplingDecision.RECORD_AND_SAMPLED }),
      toString: () => 'always',
    };
    const context = extract(['tracecontext', 'xray'], {
      traceparent,
      'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?',
    });
    expect(trace.getSpanContext(context)?.spanId).toBe('53995c3f42cd8ad8');
    expect(decide(new XrayParentBasedSampler(always), '5759e988bd862e3fe1be46a994272793', context)).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
  });
});

describe('chooseSampler', () => {
  /** The tracing settings `loadConfig` reads from `env`, as the backend gets them. */
  const fromEnv = (env: Record<string, string>, tracing?: Record<string, unknown>) =>
    loadConfig({ env, ...(tracing === undefined ? {} : { tracing: tracing as never }) }).config.tracing;
  const ecs = { ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/abc' };

  it.each([
    ['aws_ecs', ecs, 'ECS_CONTAINER_METADATA_URI_V4'],
    ['aws_eks', { KUBERNETES_SERVICE_HOST: '10.100.0.1', AWS_REGION: 'eu-west-1' }, 'AWS_REGION'],
    [
      'aws_eks',
      { KUBERNETES_SERVICE_HOST: '10.100.0.1', AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/notes' },
      'AWS_ROLE_ARN',
    ],
    [
      'aws_app_runner',
      { OTEL_RESOURCE_ATTRIBUTES: 'cloud.platform=aws_app_runner' },
      'OTEL_RESOURCE_ATTRIBUTES',
    ],
    [
      'aws_ec2',
      { KUBERNETES_SERVICE_HOST: '10.100.0.1', OTEL_RESOURCE_ATTRIBUTES: 'cloud.platform=aws_ec2' },
      'OTEL_RESOURCE_ATTRIBUTES',
    ],
  ])(
    "defaults to X-Ray's default rule when tracing turns on by itself on %s",
    async (platform, env, from) => {
      const choice = await chooseSampler(sdk, fromEnv(env), resource, logger);
      expect(choice.name).toBe('parentbased_xray_default_rule');
      expect(choice.note).toContain(`on ${platform} (from `);
      expect(choice.note).toContain(from);
      expect(choice.sampler.toString()).toMatch(/^XrayParentBased\{root=XrayDefaultRule/);
    },
  );

  it.each([
    ['elsewhere', {}, undefined, 'parentbased_always_on'],
    [
      'on a Kubernetes cluster with nothing of AWS',
      { KUBERNETES_SERVICE_HOST: '10.96.0.1' },
      undefined,
      'parentbased_always_on',
    ],
    [
      'where OTEL_RESOURCE_ATTRIBUTES names another platform',
      {
        KUBERNETES_SERVICE_HOST: '10.96.0.1',
        AWS_REGION: 'eu-west-1',
        OTEL_RESOURCE_ATTRIBUTES: 'cloud.provider=gcp,cloud.platform=gcp_kubernetes_engine',
      },
      undefined,
      'parentbased_always_on',
    ],
    [
      'where OTEL_RESOURCE_ATTRIBUTES names another provider',
      { ...ecs, OTEL_RESOURCE_ATTRIBUTES: 'cloud.provider=azure' },
      undefined,
      'parentbased_always_on',
    ],
    ['when tracing.mode is "otel"', ecs, { mode: 'otel' }, 'parentbased_always_on'],
    [
      'when OTEL_TRACES_SAMPLER names one',
      { ...ecs, OTEL_TRACES_SAMPLER: 'always_on' },
      undefined,
      'always_on',
    ],
  ])('keeps what OpenTelemetry names %s', async (_, env, tracing, name) => {
    const choice = await chooseSampler(sdk, fromEnv(env, tracing), resource, logger);
    expect(choice.name).toBe(name);
    if ('KUBERNETES_SERVICE_HOST' in env && !('AWS_REGION' in env)) {
      // Maybe EKS all the same (a node role, no region variable): the line says how to say so.
      expect(choice.note).toContain('set OTEL_RESOURCE_ATTRIBUTES=cloud.platform=aws_eks');
    } else expect(choice.note).toBeUndefined();
  });
});
