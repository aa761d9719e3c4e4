// What the kit reads of OpenTelemetry's globals another SDK registered, through the real API.
import {
  context,
  propagation,
  ROOT_CONTEXT,
  TraceFlags,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { suppressTracing, W3CTraceContextPropagator } from '@opentelemetry/core';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  activeSpanIds,
  flushOtherTracerProvider,
  globalPropagationHeaders,
  globalTracingSuppressed,
  markKitTracerProvider,
  otherTracerProvider,
  registeredGlobals,
} from '../../../src/tracing/global-otel.js';
import { captureLogs } from '../../support/log-capture.js';

/** An agent's tracer provider, as far as the API and the kit see it. */
class AgentTracerProvider implements TracerProvider {
  flushes = 0;
  constructor(readonly flush: () => Promise<void> = () => Promise.resolve()) {}
  getTracer(): Tracer {
    return trace.getTracer('none');
  }
  async forceFlush(): Promise<void> {
    this.flushes++;
    await this.flush();
  }
}

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const spanId = '00f067aa0ba902b7';
const withSpan = (ids: { traceId: string; spanId: string }, traceFlags = TraceFlags.SAMPLED) =>
  trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ ...ids, traceFlags }));

afterEach(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

describe("OpenTelemetry's globals, read without the API", () => {
  it('tell which are registered', () => {
    expect(registeredGlobals()).toEqual({ trace: false, context: false, propagation: false });
    trace.setGlobalTracerProvider(new AgentTracerProvider());
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    expect(registeredGlobals()).toEqual({ trace: true, context: true, propagation: false });
  });

  it("find the provider behind the API's proxy, unless it is the kit's", () => {
    expect(otherTracerProvider()).toBeUndefined();
    const agent = new AgentTracerProvider();
    trace.setGlobalTracerProvider(agent);
    expect(otherTracerProvider()).toEqual({ provider: agent, name: 'AgentTracerProvider' });
    trace.disable();
    const kits = new AgentTracerProvider();
    markKitTracerProvider(kits);
    trace.setGlobalTracerProvider(kits);
    expect(otherTracerProvider()).toBeUndefined();
  });

  it('read the active span, and suppression, in the global context manager', () => {
    expect(activeSpanIds()).toBeUndefined();
    expect(globalTracingSuppressed()).toBe(false);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    context.with(withSpan({ traceId, spanId }), () => {
      expect(activeSpanIds()).toEqual({ traceId, spanId, sampled: true });
      expect(globalTracingSuppressed()).toBe(false);
      context.with(suppressTracing(context.active()), () => expect(globalTracingSuppressed()).toBe(true));
    });
    context.with(withSpan({ traceId, spanId }, TraceFlags.NONE), () =>
      expect(activeSpanIds()).toEqual({ traceId, spanId, sampled: false }),
    );
    // Invalid ids (a non-recording span of no trace) name nothing.
    context.with(withSpan({ traceId: '0'.repeat(32), spanId }), () =>
      expect(activeSpanIds()).toBeUndefined(),
    );
    context.with(withSpan({ traceId, spanId: 'not-a-span-id' }), () =>
      expect(activeSpanIds()).toBeUndefined(),
    );
    expect(activeSpanIds()).toBeUndefined();
  });

  it('write the headers of the global propagator for the active span', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    expect(globalPropagationHeaders()).toEqual([]);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    context.with(withSpan({ traceId, spanId }), () =>
      expect(globalPropagationHeaders()).toEqual([['traceparent', `00-${traceId}-${spanId}-01`]]),
    );
  });
});

describe('flushOtherTracerProvider', () => {
  it("flushes the other SDK's provider, not the kit's, and resolves when there is none", async () => {
    const logs = captureLogs();
    const logger = pino({}, logs);
    await flushOtherTracerProvider(logger);
    const agent = new AgentTracerProvider();
    trace.setGlobalTracerProvider(agent);
    await flushOtherTracerProvider(logger);
    expect(agent.flushes).toBe(1);
    trace.disable();
    const kits = new AgentTracerProvider();
    markKitTracerProvider(kits);
    trace.setGlobalTracerProvider(kits);
    await flushOtherTracerProvider(logger);
    expect(kits.flushes).toBe(0);
    expect(logs.lines).toEqual([]);
  });

  it('never rejects: a failed flush is logged', async () => {
    const logs = captureLogs();
    trace.setGlobalTracerProvider(new AgentTracerProvider(() => Promise.reject(new Error('collector down'))));
    await expect(flushOtherTracerProvider(pino({}, logs))).resolves.toBeUndefined();
    expect(logs.lines).toMatchObject([
      {
        level: 40,
        err: { message: 'collector down' },
        tracing: { otherTracerProvider: 'AgentTracerProvider' },
        msg: 'the tracer provider another SDK registered (AgentTracerProvider) could not export its last spans',
      },
    ]);
  });
});
