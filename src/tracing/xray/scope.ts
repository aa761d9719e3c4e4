import {
  getRequestContext,
  type RequestContext,
  runInScope,
  type SpanIdReader,
  scopedValue,
  setTracingState,
  tracingState,
} from '../../http/context.js';

/**
 * The current X-Ray scope (segment or subsegment), kept by the kit rather than by the SDK's CLS
 * namespace. Inside a request the scope is the request's segment, looked up from the request
 * context the kit already keeps (AsyncLocalStorage, set by the request scope on every adapter), so a
 * request costs no second storage and no async hook; `with()` — a `runtime.tracer.span()`, an AWS SDK
 * call with its HTTP requests suppressed — enters a nested scope of that same storage. The SDK's
 * segments are handed to it explicitly, as its manual mode intends.
 *
 * @example
 * ```ts
 * const scopes = new ScopeManager<XrayScope>();
 * scopes.setRequest(context, { entity: segment, trace, suppressed: false });
 * scopes.with({ entity: subsegment, trace, suppressed: false }, () => work());
 * ```
 */
export class ScopeManager<S> {
  /** The innermost scope, or the request's; `undefined` outside both. */
  active(): S | undefined {
    const scope = scopedValue(this) as S | undefined;
    if (scope !== undefined) return scope;
    const request = getRequestContext();
    return request === undefined ? undefined : this.ofRequest(request);
  }

  /** The scope of `request`, once its segment started. */
  ofRequest(request: RequestContext): S | undefined {
    return tracingState(request, this) as S | undefined;
  }

  /** Makes `scope` the scope of `request` (its segment); `spanIds` names spans on its log lines. */
  setRequest(request: RequestContext, scope: S, spanIds?: SpanIdReader): void {
    setTracingState(request, this, scope, spanIds);
  }

  /** Runs `fn` with `scope` current, sync or async. */
  with<T>(scope: S, fn: () => T): T {
    return runInScope(this, scope, fn);
  }
}
