import { type Context, type ContextManager, ROOT_CONTEXT } from '@opentelemetry/api';
import { getRequestContext, type RequestContext, runInScope, scopedValue } from '../../http/context.js';

/**
 * OpenTelemetry's active context, built on the kit's request context. Inside a request the active
 * context is the request's (its server span), looked up from the request context the kit already
 * keeps, so that a request costs no second AsyncLocalStorage scope; `with()` — nested spans, the
 * exporter's suppression — enters a nested scope of that same storage (on Node 20 each storage adds
 * work to every async resource). No `@opentelemetry/context-async-hooks` needed.
 */
export class RequestContextManager implements ContextManager {
  readonly #requestContext: (request: RequestContext) => Context | undefined;

  /** `requestContext` gives the OpenTelemetry context of a request, once its span started. */
  constructor(requestContext: (request: RequestContext) => Context | undefined) {
    this.#requestContext = requestContext;
  }

  /** The context of the innermost `with()` around the caller; `undefined` when none (the request's applies). */
  scoped(): Context | undefined {
    return scopedValue(this) as Context | undefined;
  }

  active(): Context {
    const scoped = scopedValue(this) as Context | undefined;
    if (scoped !== undefined) return scoped;
    const request = getRequestContext();
    return (request === undefined ? undefined : this.#requestContext(request)) ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const callback = thisArg === undefined ? fn : (fn.bind(thisArg) as F);
    return runInScope(this, context, () => callback(...args));
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const manager = this;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    return function boundToContext(this: unknown, ...args: unknown[]): unknown {
      return manager.with(context, () => fn.apply(this, args));
    } as unknown as T;
  }

  enable(): this {
    return this;
  }

  /** Nothing to release: the scopes live in the kit's one request storage. */
  disable(): this {
    return this;
  }
}
