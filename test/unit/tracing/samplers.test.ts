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
import { defaultXrayRulesSource, type TracingConfig } from '../../../src/config/tracing.js';
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
  const base: Pick<
    TracingConfig,
    'mode' | 'sampler' | 'samplerArg' | 'xrayRules' | 'platform' | 'resourceAttributes'
  > = {
    mode: 'auto',
    sampler: undefined,
    samplerArg: undefined,
    xrayRules: defaultXrayRulesSource,
    platform: undefined,
    resourceAttributes: {},
  };

  it.each([
    ['aws_ecs', { platform: 'aws_ecs' as const }],
    ['aws_eks', { platform: 'aws_eks' as const }],
    ['aws_app_runner', { resourceAttributes: { 'cloud.platform': 'aws_app_runner' } }],
  ])("defaults to X-Ray's default rule when tracing turns on by itself on %s", async (platform, settings) => {
    const choice = await chooseSampler(sdk, { ...base, ...settings }, resource, logger);
    expect(choice.name).toBe('parentbased_xray_default_rule');
    expect(choice.note).toContain(platform);
    expect(choice.sampler.toString()).toMatch(/^XrayParentBased\{root=XrayDefaultRule/);
  });

  it.each([
    ['elsewhere', {}, 'parentbased_always_on'],
    [
      'when tracing.mode is "otel"',
      { mode: 'otel' as const, platform: 'aws_ecs' as const },
      'parentbased_always_on',
    ],
    [
      'when OTEL_TRACES_SAMPLER names one',
      { sampler: 'always_on' as const, platform: 'aws_ecs' as const },
      'always_on',
    ],
  ])('keeps what OpenTelemetry names %s', async (_, settings, name) => {
    const choice = await chooseSampler(sdk, { ...base, ...settings }, resource, logger);
    expect(choice.name).toBe(name);
    expect(choice.note).toBeUndefined();
  });
});
