// Other loaded copies of @opentelemetry/api (its CommonJS build beside the ESM one on api 1.10, a
// nested install): found in the module cache, and made to forward to the kit's tracer provider.
import { ProxyTracerProvider, type Span, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { followKitProvider, otherApiCopies } from '../../../src/tracing/otel/api-copies.js';

/** A tracer provider whose spans say they record: the kit's, as far as a proxy sees it. */
class RecordingTracerProvider implements TracerProvider {
  getTracer(): Tracer {
    const span = { isRecording: () => true } as Span;
    return { startSpan: () => span, startActiveSpan: () => undefined } as unknown as Tracer;
  }
}

const registryKey = Symbol.for('opentelemetry.js.api.1');

/**
 * A `trace` API of another copy, as the 1.x API behaves: its own proxy provider until something is
 * registered; then the registered one when it accepts the registering copy's version, else its own.
 */
function otherTraceApi(acceptsRegistered: boolean) {
  return {
    proxy: new ProxyTracerProvider(),
    getTracerProvider(): TracerProvider {
      const registered = (globalThis as Record<symbol, { trace?: TracerProvider } | undefined>)[registryKey]
        ?.trace;
      return acceptsRegistered && registered !== undefined ? registered : this.proxy;
    },
    disable(): void {
      this.proxy = new ProxyTracerProvider();
    },
  };
}

afterEach(() => {
  trace.disable();
});

describe('other copies of @opentelemetry/api', () => {
  it('are found in the CommonJS module cache, one per copy, the kit’s own left out', () => {
    const cjs = otherTraceApi(true);
    const nested = otherTraceApi(true);
    const cache = {
      '/app/node_modules/@opentelemetry/api/dist/index.cjs': { exports: { trace: cjs } },
      '/app/node_modules/@opentelemetry/api/dist/trace-api.cjs': { exports: { trace: cjs } },
      '/app/node_modules/@opentelemetry/api/dist/context-api.cjs': { exports: { context: {} } },
      '/app/node_modules/x/node_modules/@opentelemetry/api/build/src/index.js': {
        exports: { trace: nested },
      },
      '/app/node_modules/@opentelemetry/api/build/src/own.js': { exports: { trace } },
      '/app/node_modules/fake-otel/index.js': { exports: { trace: otherTraceApi(true) } },
      '/app/node_modules/@opentelemetry/api/dist/broken.cjs': undefined,
    };

    const copies = otherApiCopies(trace, cache);

    expect(copies.map((copy) => copy.path)).toEqual([
      '/app/node_modules/@opentelemetry/api',
      '/app/node_modules/x/node_modules/@opentelemetry/api',
    ]);
    expect(copies[0]!.proxy).toBe(cjs.proxy);
  });

  it("forward the tracers they handed out before to the kit's provider once it is registered", () => {
    const cjs = otherTraceApi(true);
    const early = cjs.getTracerProvider().getTracer('@fastify/otel');
    const copies = otherApiCopies(trace, {
      '/a/node_modules/@opentelemetry/api/dist/index.cjs': { exports: { trace: cjs } },
    });
    const provider = new RecordingTracerProvider();
    trace.setGlobalTracerProvider(provider);
    expect(early.startSpan('before').isRecording()).toBe(false);

    const { apart } = followKitProvider(copies, trace, provider);

    expect(apart).toEqual([]);
    expect(early.startSpan('request').isRecording()).toBe(true);
  });

  it('give a tracer taken after the kit unregistered to the next provider, not the one shut down', () => {
    const cjs = otherTraceApi(true);
    const first = new RecordingTracerProvider();
    const copies = otherApiCopies(trace, {
      '/a/node_modules/@opentelemetry/api/dist/index.cjs': { exports: { trace: cjs } },
    });
    trace.setGlobalTracerProvider(first);
    const followed = followKitProvider(copies, trace, first);

    trace.disable();
    followed.disable();

    expect(cjs.getTracerProvider().getTracer('between runtimes').startSpan('x').isRecording()).toBe(false);
  });

  it('name the copies whose version does not follow the registered provider, and leave them be', () => {
    const newer = otherTraceApi(false);
    const early = newer.getTracerProvider().getTracer('newer');
    const path = '/a/node_modules/newer-sdk/node_modules/@opentelemetry/api';
    const copies = otherApiCopies(trace, { [`${path}/build/src/index.js`]: { exports: { trace: newer } } });
    const provider = new RecordingTracerProvider();
    trace.setGlobalTracerProvider(provider);

    const { apart } = followKitProvider(copies, trace, provider);

    expect(apart).toEqual([path]);
    expect(early.startSpan('request').isRecording()).toBe(false);
  });
});
