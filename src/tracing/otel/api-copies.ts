import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { TracerProvider } from '@opentelemetry/api';

/** What the kit reads of a `trace` API object: its own or another loaded copy's. */
interface TraceApiLike {
  getTracerProvider(): unknown;
  disable?(): void;
}

/** A `ProxyTracerProvider` of `@opentelemetry/api`, the provider its early tracers forward to. */
interface ProxyLike {
  setDelegate(provider: TracerProvider): void;
}

/** Another loaded copy of `@opentelemetry/api`, as it was before the kit registered its provider. */
export interface OtherApiCopy {
  /** Its package folder, for the log line. */
  readonly path: string;
  readonly trace: TraceApiLike;
  /** What its `trace.getTracerProvider()` gave before the kit registered: its own proxy provider. */
  readonly proxy: unknown;
}

const apiPackage = /^(.*[\\/]node_modules[\\/]@opentelemetry[\\/]api)[\\/]/;

/** Node.js's one CommonJS module cache (every `require` function shares it). */
function moduleCache(): Readonly<Record<string, { exports?: unknown } | undefined>> {
  return createRequire(join(process.cwd(), 'index.js')).cache;
}

/** The `trace` API a module of `@opentelemetry/api` exports, if it exports one. */
function traceApiOf(exports: unknown): TraceApiLike | undefined {
  try {
    const { trace } = (exports ?? {}) as { trace?: Partial<TraceApiLike> };
    return typeof trace?.getTracerProvider === 'function' ? (trace as TraceApiLike) : undefined;
  } catch {
    // An export getter that throws: not a copy the kit can hand its provider to, nor one it reads.
    return undefined;
  }
}

/**
 * The copies of `@opentelemetry/api` loaded as CommonJS besides `own` (the copy the kit imported),
 * with the proxy provider each hands its tracers out from: call it before the kit registers its
 * provider, for which {@link followKitProvider} is the other half. Api 1.10 ships an ESM and a
 * CommonJS build, each with its own `trace` API and proxy provider: the kit's ESM build registers
 * on the ESM one, and a tracer an instrumentation took from the CommonJS one before (in its
 * constructor: `@fastify/otel`, any `InstrumentationBase`) never reached the kit's provider — its
 * spans were non-recording, lost without a word. A copy installed apart (a nested api) is the same
 * case. ESM copies are not found: Node.js keeps no cache of them to read.
 */
export function otherApiCopies(
  own: TraceApiLike,
  cache: Readonly<Record<string, { exports?: unknown } | undefined>> = moduleCache(),
): OtherApiCopy[] {
  const copies = new Map<TraceApiLike, OtherApiCopy>();
  for (const file of Object.keys(cache)) {
    // Most of an app's modules are not OpenTelemetry's: a substring test rules them out before the pattern.
    if (!file.includes('@opentelemetry')) continue;
    const match = apiPackage.exec(file);
    if (match === null) continue;
    const trace = traceApiOf(cache[file]?.exports);
    // Several modules of one copy export its `trace` (its index, `trace-api`): one entry per copy.
    if (trace === undefined || trace === own || copies.has(trace)) continue;
    copies.set(trace, { path: match[1]!, trace, proxy: trace.getTracerProvider() });
  }
  return [...copies.values()];
}

/** What {@link followKitProvider} did. */
export interface FollowedCopies {
  /** The folders of the copies that do not follow the registered provider: their tracers make no spans. */
  readonly apart: string[];
  /**
   * Unregisters through the copies that followed, as `trace.disable()` does through the kit's own:
   * each gets a new proxy provider, so a tracer taken after (a runtime started next in the process)
   * follows the next registered provider, not the one shut down.
   */
  disable(): void;
}

/**
 * Once the kit registered `provider` through `own`: each copy of {@link otherApiCopies} that follows
 * OpenTelemetry's global registration (its version accepts the registering one's) has its proxy
 * provider forward to `provider`, as registering through it would have done, so that the tracers
 * it handed out before join the kit's traces.
 */
export function followKitProvider(
  copies: readonly OtherApiCopy[],
  own: TraceApiLike,
  provider: TracerProvider,
): FollowedCopies {
  const registered = own.getTracerProvider();
  const apart: string[] = [];
  const followed: TraceApiLike[] = [];
  for (const copy of copies) {
    if (copy.trace.getTracerProvider() !== registered) {
      apart.push(copy.path);
      continue;
    }
    followed.push(copy.trace);
    const proxy = copy.proxy as Partial<ProxyLike> | undefined;
    // Always a proxy on the 1.x API: nothing was registered when it was read.
    if (proxy !== registered && typeof proxy?.setDelegate === 'function') proxy.setDelegate(provider);
  }
  return {
    apart,
    disable: () => {
      for (const trace of followed) trace.disable?.();
    },
  };
}
