import {
  type Context,
  createContextKey,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SamplingDecision,
  SpanKind,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { describe, expect, it } from 'vitest';
import { runWithRequestContext } from '../../../src/http/context.js';
import { RequestContextManager } from '../../../src/tracing/otel/context-manager.js';
import { XrayIdGenerator } from '../../../src/tracing/otel/id-generator.js';
import { contextFromHeader, headerFor, XrayPropagator } from '../../../src/tracing/otel/propagator.js';
import { createSampler, XrayParentBasedSampler } from '../../../src/tracing/otel/sampler.js';
import { loadTraceSdk } from '../../../src/tracing/otel/trace-sdk.js';
import { parseTraceHeader } from '../../../src/tracing/trace-header.js';
import { testRequestContext } from '../../support/request-context.js';

// The samplers of the installed SDK line (2.x here; 3.x in the OpenTelemetry-line CI step).
const sdk = await loadTraceSdk();
const { AlwaysOffSampler, AlwaysOnSampler } = sdk;

const root = '1-5759e988-bd862e3fe1be46a994272793';
const hexRoot = '5759e988bd862e3fe1be46a994272793';
const parent = '53995c3f42cd8ad8';

function extract(header: string | undefined): Context {
  return new XrayPropagator().extract(ROOT_CONTEXT, { 'x-amzn-trace-id': header }, defaultTextMapGetter);
}

function decide(sampler: XrayParentBasedSampler | ReturnType<typeof createSampler>, context: Context) {
  return sampler.shouldSample(context, hexRoot, 'GET', SpanKind.SERVER, {}, []).decision;
}

describe('XrayPropagator', () => {
  it('extracts the caller as a remote parent, with its sampling flag', () => {
    const context = extract(`Root=${root};Parent=${parent};Sampled=1`);
    expect(trace.getSpanContext(context)).toEqual({
      traceId: hexRoot,
      spanId: parent,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  });

  it('is as lenient as parseTraceHeader', () => {
    const context = extract(
      ` root = ${root.toUpperCase()} ;; PARENT=${parent.toUpperCase()} ; sampled=0;foo=bar`,
    );
    expect(trace.getSpanContext(context)).toMatchObject({
      traceId: hexRoot,
      spanId: parent,
      traceFlags: TraceFlags.NONE,
    });
  });

  it.each([
    'garbage',
    `Root=${root}x;Parent=${parent}`,
    `Parent=${parent};Sampled=1`,
    `Root=${root};${'x'.repeat(2000)}`,
  ])('ignores the malformed %j: a new trace starts', (header) => {
    expect(extract(header)).toBe(ROOT_CONTEXT);
  });

  it('injects Root, Parent, Sampled and the caller lineage, and nothing without a span', () => {
    const carrier: Record<string, string> = {};
    const context = contextFromHeader(
      ROOT_CONTEXT,
      parseTraceHeader(`Root=${root};Parent=${parent};Sampled=1;Lineage=a87bd80c:1`)!,
    );
    new XrayPropagator().inject(context, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({
      'x-amzn-trace-id': `Root=${root};Parent=${parent};Sampled=1;Lineage=a87bd80c:1`,
    });
    const empty: Record<string, string> = {};
    new XrayPropagator().inject(ROOT_CONTEXT, empty, defaultTextMapSetter);
    expect(empty).toEqual({});
    expect(new XrayPropagator().fields()).toEqual(['x-amzn-trace-id']);
  });

  it('agrees with @opentelemetry/propagator-aws-xray on well-formed headers, both ways', () => {
    const contrib = new AWSXRayPropagator();
    for (const sampled of ['0', '1']) {
      const header = `Root=${root};Parent=${parent};Sampled=${sampled}`;
      const ours = trace.getSpanContext(extract(header));
      const theirs = trace.getSpanContext(
        contrib.extract(ROOT_CONTEXT, { 'x-amzn-trace-id': header }, defaultTextMapGetter),
      );
      expect(ours).toEqual(theirs);
      const carrier: Record<string, string> = {};
      contrib.inject(extract(header), carrier, defaultTextMapSetter);
      expect(parseTraceHeader(carrier['x-amzn-trace-id'])).toMatchObject({ root, parent, sampled });
      expect(headerFor(extract(header))).toBe(header);
    }
  });
});

describe('XrayParentBasedSampler', () => {
  const sampler = new XrayParentBasedSampler(new AlwaysOffSampler());
  const local = (flags: TraceFlags) =>
    trace.setSpanContext(ROOT_CONTEXT, {
      traceId: hexRoot,
      spanId: parent,
      traceFlags: flags,
      isRemote: false,
    });

  it('follows a local parent', () => {
    expect(decide(sampler, local(TraceFlags.SAMPLED))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(sampler, local(TraceFlags.NONE))).toBe(SamplingDecision.NOT_RECORD);
  });

  it("follows the caller's Sampled=1 and Sampled=0, with or without Parent", () => {
    const always = new XrayParentBasedSampler(new AlwaysOnSampler());
    expect(decide(sampler, extract(`Root=${root};Parent=${parent};Sampled=1`))).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(decide(sampler, extract(`Root=${root};Sampled=1`))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(always, extract(`Root=${root};Parent=${parent};Sampled=0`))).toBe(
      SamplingDecision.NOT_RECORD,
    );
    expect(decide(always, extract(`Root=${root};Sampled=0`))).toBe(SamplingDecision.NOT_RECORD);
  });

  it('decides with its root sampler for Sampled=?, no Sampled, and no header', () => {
    const always = new XrayParentBasedSampler(new AlwaysOnSampler());
    for (const header of [
      `Root=${root};Parent=${parent};Sampled=?`,
      `Root=${root};Parent=${parent}`,
      'garbage',
    ]) {
      expect(decide(always, extract(header))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
      expect(decide(sampler, extract(header))).toBe(SamplingDecision.NOT_RECORD);
    }
  });

  it('follows a remote parent extracted by another propagator by its flags', () => {
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: hexRoot,
      spanId: parent,
      traceFlags: TraceFlags.NONE,
      isRemote: true,
    });
    expect(decide(new XrayParentBasedSampler(new AlwaysOnSampler()), remote)).toBe(
      SamplingDecision.NOT_RECORD,
    );
  });

  it.each([
    ['always_on', SamplingDecision.RECORD_AND_SAMPLED],
    ['always_off', SamplingDecision.NOT_RECORD],
    ['traceidratio', SamplingDecision.NOT_RECORD],
  ] as const)('%s ignores the caller', (name, decision) => {
    const arg = name === 'traceidratio' ? 0 : undefined;
    expect(
      decide(
        createSampler(sdk, name, arg),
        extract(`Root=${root};Parent=${parent};Sampled=${decision === 2 ? '0' : '1'}`),
      ),
    ).toBe(decision);
  });
});

describe('XrayIdGenerator', () => {
  it('makes X-Ray-compatible trace ids, and hands a pinned id out once', () => {
    const ids = new XrayIdGenerator();
    const id = ids.generateTraceId();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(Math.abs(Number.parseInt(id.slice(0, 8), 16) - Date.now() / 1000)).toBeLessThan(5);
    ids.pin(hexRoot);
    expect(ids.generateTraceId()).toBe(hexRoot);
    expect(ids.generateTraceId()).not.toBe(hexRoot);
    expect(ids.generateSpanId()).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('RequestContextManager', () => {
  const key = createContextKey('test');
  const requestContext = testRequestContext('r1');

  it("is the request's context inside a request, and with()'s inside with()", async () => {
    const ofRequest = ROOT_CONTEXT.setValue(key, 'request');
    const manager = new RequestContextManager((request) =>
      request === requestContext ? ofRequest : undefined,
    );
    expect(manager.active()).toBe(ROOT_CONTEXT);
    await runWithRequestContext(requestContext, async () => {
      expect(manager.active()).toBe(ofRequest);
      const inner = ofRequest.setValue(key, 'inner');
      await manager.with(inner, async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        expect(manager.active()).toBe(inner);
      });
      expect(manager.active()).toBe(ofRequest);
      const bound = manager.bind(inner, () => manager.active());
      expect(bound()).toBe(inner);
    });
  });

  it('never lets a with() scope leak into another request', () => {
    const manager = new RequestContextManager(() => undefined);
    const outer = ROOT_CONTEXT.setValue(key, 'outer');
    manager.with(outer, () => {
      expect(manager.active()).toBe(outer);
      runWithRequestContext({ ...requestContext, requestId: 'r2' }, () => {
        expect(manager.active()).toBe(ROOT_CONTEXT);
      });
    });
  });
});
