import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, type ContextManager, ROOT_CONTEXT } from '@opentelemetry/api';
import { getRequestContext, type RequestContext } from '../../http/context.js';

interface Scope {
  readonly context: Context;
  /** The request `with()` was called in: a scope never leaks into another request. */
  readonly request: RequestContext | undefined;
}

/**
 * OpenTelemetry's active context, built on the kit's request context. Inside a request the active
 * context is the request's (its server span), looked up from the request context the kit already
 * keeps, so that a request costs no second AsyncLocalStorage scope; `with()` — nested spans, the
 * exporter's suppression — uses a storage of its own. No `@opentelemetry/context-async-hooks`
 * needed.
 */
export class RequestContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Scope>();
  readonly #requestContext: (request: RequestContext) => Context | undefined;

  /** `requestContext` gives the OpenTelemetry context of a request, once its span started. */
  constructor(requestContext: (request: RequestContext) => Context | undefined) {
    this.#requestContext = requestContext;
  }

  active(): Context {
    const request = getRequestContext();
    const scope = this.#storage.getStore();
    if (scope !== undefined && scope.request === request) return scope.context;
    return (request === undefined ? undefined : this.#requestContext(request)) ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const scope: Scope = { context, request: getRequestContext() };
    const callback = thisArg === undefined ? fn : (fn.bind(thisArg) as F);
    return this.#storage.run(scope, callback, ...args);
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

  disable(): this {
    this.#storage.disable();
    return this;
  }
}
