import type { Logger } from 'pino';
import { processGlobal } from '../internal/process-global.js';
import { hexTraceIdPattern, validSpanIdPattern } from './id-patterns.js';
import type { PropagationHeader } from './propagation.js';

/**
 * OpenTelemetry's process-wide registry, read without loading `@opentelemetry/api`. Every 1.x copy
 * of the API keeps what is registered through it (`trace.setGlobalTracerProvider()`,
 * `context.setGlobalContextManager()`, `propagation.setGlobalPropagator()`) on one object under
 * `Symbol.for('opentelemetry.js.api.1')`, and makes its context keys with `Symbol.for(description)`,
 * so that copies installed apart share them. The kit reads them to see another SDK (an APM agent:
 * OpenTelemetry's zero-code agent, Sentry) in the process in every tracing mode, tracing off
 * included, which loads no OpenTelemetry package.
 */
const registryKey = Symbol.for('opentelemetry.js.api.1');
/** The API's key of the span in a context (`trace.setSpan`). */
const spanKey = Symbol.for('OpenTelemetry Context Key SPAN');
/** `@opentelemetry/core`'s key of `suppressTracing`. */
const suppressTracingKey = Symbol.for('OpenTelemetry SDK Context Key SUPPRESS_TRACING');
const sampledFlag = 1;

interface ContextLike {
  getValue(key: symbol): unknown;
}

interface Registry {
  readonly trace?: unknown;
  readonly context?: { active?: () => unknown };
  readonly propagation?: {
    inject?: (
      context: unknown,
      carrier: Record<string, string>,
      setter: { set(carrier: Record<string, string>, key: string, value: string): void },
    ) => void;
  };
}

function registry(): Registry | undefined {
  const value = (globalThis as Record<symbol, unknown>)[registryKey];
  return typeof value === 'object' && value !== null ? (value as Registry) : undefined;
}

/** Which of OpenTelemetry's globals something registered: registering one again fails, with an error. */
export interface RegisteredGlobals {
  readonly trace: boolean;
  readonly context: boolean;
  readonly propagation: boolean;
}

/**
 * Whether Sentry registered OpenTelemetry's globals (Sentry 8 to 10, `@sentry/node`): its tracer
 * provider (`SentryTracerProvider` from 10.64; a plain `BasicTracerProvider` before, or when asked),
 * registered with its context manager and propagator, whose class names say Sentry
 * (`SentryContextManager`, `SentryAsyncLocalStorageContextManager`, `SentryPropagator`).
 */
export function sentryRegisteredGlobals(provider: OtherTracerProvider): boolean {
  if (provider.name === 'SentryTracerProvider') return true;
  const found = registry();
  return [found?.context, found?.propagation].some((registered) => {
    const name = (registered as { constructor?: { name?: unknown } } | undefined)?.constructor?.name;
    return typeof name === 'string' && name.startsWith('Sentry');
  });
}

/** Which of OpenTelemetry's globals are registered in the process, by whatever registered them. */
export function registeredGlobals(): RegisteredGlobals {
  const found = registry();
  return {
    trace: found?.trace != null,
    context: found?.context != null,
    propagation: found?.propagation != null,
  };
}

/** The tracer providers the kit built, by every copy of it in the process. */
const kitProviders = processGlobal('tracerProviders.v1', () => new WeakSet<object>());

/** Marks `provider` as the kit's: {@link otherTracerProvider} does not count it. */
export function markKitTracerProvider(provider: object): void {
  kitProviders.add(provider);
}

/** A tracer provider another SDK registered as OpenTelemetry's global one. */
export interface OtherTracerProvider {
  readonly provider: object;
  /** Its class name (`NodeTracerProvider`, `TracerProvider`), for the log lines. */
  readonly name: string;
}

/**
 * The tracer provider registered as OpenTelemetry's global one, when another SDK did (the kit's own
 * is not counted): the provider behind the API's proxy (`ProxyTracerProvider.getDelegate()`), which
 * is the one to flush. `undefined` when none is.
 */
export function otherTracerProvider(): OtherTracerProvider | undefined {
  const registered = registry()?.trace;
  if (typeof registered !== 'object' || registered === null) return undefined;
  let provider: object = registered;
  const { getDelegate } = registered as { getDelegate?: unknown };
  if (typeof getDelegate === 'function') {
    try {
      const delegate: unknown = getDelegate.call(registered);
      if (typeof delegate === 'object' && delegate !== null) provider = delegate;
    } catch {
      // A proxy that cannot say: the registered object is all there is to go by.
    }
  }
  if (kitProviders.has(provider)) return undefined;
  const name = (provider as { constructor?: { name?: unknown } }).constructor?.name;
  return { provider, name: typeof name === 'string' && name !== '' ? name : 'TracerProvider' };
}

/** The active context of the global context manager, whoever registered it; `undefined` when none. */
function activeContext(): ContextLike | undefined {
  const manager = registry()?.context;
  if (typeof manager?.active !== 'function') return undefined;
  try {
    const active = manager.active() as Partial<ContextLike> | null | undefined;
    return typeof active?.getValue === 'function' ? (active as ContextLike) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether tracing is suppressed where the caller runs, in the global context manager's active
 * context (`suppressTracing()` of `@opentelemetry/core`): SDKs and agents send their own exports
 * and uploads so (Sentry's envelopes, an OpenTelemetry exporter's requests), and they are to be
 * neither traced nor given headers.
 */
export function globalTracingSuppressed(): boolean {
  try {
    return activeContext()?.getValue(suppressTracingKey) === true;
  } catch {
    return false;
  }
}

/** The ids of a span, as OpenTelemetry holds them (lower-case hex). */
export interface ActiveSpanIds {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

/**
 * The span active in the global context manager where the caller runs (another SDK's, when it
 * registered the context manager), when its ids are valid; else `undefined`.
 */
export function activeSpanIds(): ActiveSpanIds | undefined {
  try {
    const span = activeContext()?.getValue(spanKey) as { spanContext?: unknown } | undefined;
    if (typeof span?.spanContext !== 'function') return undefined;
    const ids = span.spanContext() as
      | { traceId?: unknown; spanId?: unknown; traceFlags?: unknown }
      | undefined;
    const { traceId, spanId, traceFlags } = ids ?? {};
    if (typeof traceId !== 'string' || !hexTraceIdPattern.test(traceId) || /^0+$/.test(traceId))
      return undefined;
    if (typeof spanId !== 'string' || !validSpanIdPattern.test(spanId)) return undefined;
    return {
      traceId: traceId.toLowerCase(),
      spanId: spanId.toLowerCase(),
      sampled: typeof traceFlags === 'number' && (traceFlags & sampledFlag) === sampledFlag,
    };
  } catch {
    return undefined;
  }
}

/**
 * The headers the global propagator writes for the active context (another SDK's: `traceparent`,
 * its own), lower-case names; empty when none is registered or it writes nothing.
 */
export function globalPropagationHeaders(): PropagationHeader[] {
  const propagator = registry()?.propagation;
  const context = activeContext();
  if (typeof propagator?.inject !== 'function' || context === undefined) return [];
  const carrier: Record<string, string> = {};
  try {
    propagator.inject(context, carrier, {
      set: (target, key, value) => {
        if (typeof key === 'string' && typeof value === 'string') target[key.toLowerCase()] = value;
      },
    });
  } catch {
    return [];
  }
  return Object.entries(carrier);
}

/**
 * Exports what the tracer provider another SDK registered holds (`forceFlush()`), as the kit's last
 * step before the exit: an agent that ends its SDK on SIGTERM itself is cut short by the exit, and
 * its last spans were lost. Nothing when no other SDK registered one, or it cannot flush. Never
 * rejects: a failure is logged.
 */
export async function flushOtherTracerProvider(logger: Logger): Promise<void> {
  const other = otherTracerProvider();
  const { forceFlush } = (other?.provider ?? {}) as { forceFlush?: unknown };
  if (other === undefined || typeof forceFlush !== 'function') return;
  try {
    await forceFlush.call(other.provider);
  } catch (error) {
    logger.warn(
      { err: error, tracing: { otherTracerProvider: other.name } },
      `the tracer provider another SDK registered (${other.name}) could not export its last spans`,
    );
  }
}
