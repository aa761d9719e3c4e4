/**
 * `apprunner-kit/koa`: the Koa 2 and 3 adapter. `bootstrapAppRunner({ app })` picks it for a Koa app
 * by itself; import it from here to name it explicitly (`adapter: koaAdapter`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeRequestListener } from '../config/options.js';
import { cutSlot, getMutableRequestContext } from '../http/context.js';
import { requestPath } from '../http/path.js';
import { type AppAdapter, inFront, isFunction } from './adapter.js';

export { getRequestContext, type RequestContext, type RequestFieldValue } from '../http/context.js';
export { reportRequestError } from '../http/request-errors.js';
export { addRequestFields } from '../http/request-fields.js';
export { setRequestRoute } from '../http/request-route.js';
export { flushRequestLogs } from '../logging/held-lines.js';

/** What the kit needs of a Koa app. */
export interface KoaLikeApp {
  callback(): NodeRequestListener;
  use: (...args: never[]) => unknown;
  on: (...args: never[]) => unknown;
  middleware: unknown[];
  /**
   * Koa's own: makes the `ctx` of a request (both lines call it from `callback()`'s listener). The
   * kit reads the route pattern from that `ctx`; a Koa-shaped app without it has no `route`.
   */
  createContext?: (req: IncomingMessage, res: ServerResponse) => unknown;
  /** Koa's own: the prototype of every request's `ctx`. */
  context?: object;
}

interface KoaContextLike {
  _matchedRoute?: unknown;
  url?: unknown;
  originalUrl?: unknown;
  /** `koa-mount`'s: the prefix of the innermost mount the request entered. */
  mountPath?: unknown;
  [matchedRoute]?: unknown;
  [takenByMountsSlot]?: string;
}

const koaContext = Symbol('apprunner-kit.koaContext');
/** Where a request's `ctx` keeps `@koa/router`'s `_matchedRoute`, behind the kit's accessor. */
const matchedRoute = Symbol.for('apprunner-kit.koaMatchedRoute');
/** Where a request's `ctx` keeps the path mounts had taken off when the route matched. */
const takenByMountsSlot = Symbol.for('apprunner-kit.koaTakenByMounts');

/**
 * The part of the request's path that mounts (`koa-mount`, which sets `ctx.path` to the rest, and
 * `ctx.mountPath` to its prefix) have taken off now: `/api/v1` of `/api/v1/users/7` where `ctx.path`
 * is `/users/7`; '' outside a mount. A path the app rewrote itself (a tenant prefix taken off, an SPA
 * fallback to `/`) holds request text, never a mount: it must end with the innermost mount's prefix.
 */
function takenByMounts(ctx: KoaContextLike): string {
  const { url, originalUrl, mountPath } = ctx;
  if (url === originalUrl || typeof url !== 'string' || typeof originalUrl !== 'string') return '';
  if (typeof mountPath !== 'string' || mountPath === '') return '';
  const arrived = requestPath(originalUrl);
  const rest = requestPath(url);
  // A mount on all of the path leaves `/`: `/api` mounted, `/api` requested.
  const taken = arrived.endsWith(rest)
    ? arrived.slice(0, arrived.length - rest.length)
    : rest === '/'
      ? arrived
      : '';
  return taken.endsWith(mountPath) ? taken : '';
}

/**
 * Lets `ctx._matchedRoute` (`@koa/router`'s pattern, relative to the mounts it runs under) be written
 * and read as before, and keeps, as it is written, what the mounts had taken off the path then: the
 * route of `/users/:id` in an app mounted on `/api/v1` is `/api/v1/users/:id`, not the pattern of
 * every version's users. Defined once on the app's `context` (every `ctx`'s prototype), never removed:
 * it holds the value as a plain property would, so that a request still running when the runtime
 * stops reads its route back.
 */
function keepMountPrefix(app: KoaLikeApp): void {
  const context = app.context;
  if (typeof context !== 'object' || context === null) return;
  const own = Object.getOwnPropertyDescriptor(context, '_matchedRoute');
  if (own !== undefined) return; // the kit's already, or the app's own
  Object.defineProperty(context, '_matchedRoute', {
    configurable: true,
    enumerable: false,
    get(this: KoaContextLike): unknown {
      return this[matchedRoute];
    },
    set(this: KoaContextLike, value: unknown) {
      this[matchedRoute] = value;
      this[takenByMountsSlot] = takenByMounts(this);
    },
  });
}

/**
 * An error after the response began (a stream body that broke: Koa sets `headerSent` on it): the
 * response is cut short by the server, not aborted by the client, and its line says so. Koa 2 then
 * leaves the response open for ever (the client waits, the request stays in flight, and the drain
 * waits for it to its deadline): its connection is closed, as Koa 3 and Express's final handler do.
 */
function markCutShort(error: unknown, ctx: unknown): void {
  if ((error as { headerSent?: unknown } | null)?.headerSent !== true) return;
  // Koa says `headerSent` of a response it can no longer write to, a client's reset included: a
  // connection already gone is the client's doing.
  const socket = (ctx as { req?: IncomingMessage } | undefined)?.req?.socket;
  if (socket?.destroyed === true) return;
  const res = (ctx as { res?: ServerResponse } | undefined)?.res;
  const context = getMutableRequestContext();
  if (context !== undefined && res !== undefined && !res.writableFinished) context[cutSlot] = true;
  if (res !== undefined && !res.writableEnded) socket?.destroy();
}

/** Where the app keeps Koa's printer that a stopped runtime put back as its `error` listener. */
const printerRestored = Symbol('apprunner-kit.koaPrinterRestored');

/** A Koa app as an event emitter: its `error` listeners, and Koa's own printer (`onerror`). */
interface KoaErrorEmitter {
  removeListener?: unknown;
  listenerCount?: unknown;
  onerror?: unknown;
  [printerRestored]?: unknown;
}

/** Removes `listener` from the app's `error` listeners. */
function offError(app: KoaErrorEmitter, listener: unknown): void {
  if (isFunction(app.removeListener))
    (app.removeListener as (event: string, listener: unknown) => unknown).call(app, 'error', listener);
}

/**
 * The Koa adapter: the kit in front of `app.callback()`; an `error` listener, so that Koa's default
 * plain-text stderr output never appears and route errors are logged with the request and mark its
 * trace; `@koa/router`'s route pattern (`ctx._matchedRoute`, after the path `koa-mount` mounts took
 * off) on the request line, read from the request's `ctx`, which the kit keeps from Koa's `createContext` (no middleware of the kit's: the
 * app's middleware array is left as it is).
 */
export const koaAdapter: AppAdapter<KoaLikeApp> = {
  name: 'koa',
  matches: (app): app is KoaLikeApp =>
    typeof app === 'object' &&
    app !== null &&
    isFunction((app as Partial<KoaLikeApp>).callback) &&
    isFunction((app as Partial<KoaLikeApp>).use) &&
    isFunction((app as Partial<KoaLikeApp>).on) &&
    Array.isArray((app as Partial<KoaLikeApp>).middleware),
  install: (app, kit) => {
    // Before callback(): Koa installs its stderr printer only when no `error` listener exists.
    // The request id reaches Koa's error response through the response's `writeHead`, after Koa has
    // removed the headers set so far: the error object, which the app may throw again in another
    // request, is left as it is.
    const onError = (error: unknown, ctx?: unknown): void => {
      kit.reportError(error);
      markCutShort(error, ctx);
    };
    // The printer an earlier runtime put back as it stopped: the kit's listener replaces it again.
    const emitter = app as KoaErrorEmitter;
    const restored = emitter[printerRestored];
    if (restored !== undefined) {
      delete emitter[printerRestored];
      offError(emitter, restored);
    }
    (app.on as (event: 'error', listener: typeof onError) => unknown)('error', onError);
    // A call per request, where a middleware would cost a promise and a turn of Koa's dispatch.
    const createContext = app.createContext;
    const ownCreateContext = Object.hasOwn(app, 'createContext');
    let keeping = true;
    const keepingContext = function apprunnerKitCreateContext(
      this: KoaLikeApp,
      req: IncomingMessage,
      res: ServerResponse,
    ): unknown {
      const ctx = createContext!.call(this, req, res);
      if (keeping) (req as IncomingMessage & { [koaContext]?: unknown })[koaContext] = ctx;
      return ctx;
    };
    const wrapped = isFunction(createContext);
    if (wrapped) {
      app.createContext = keepingContext;
      keepMountPrefix(app);
    }
    // Once the runtime stopped (or its start failed), the app is as it was: bootstrapped again, it
    // gets one listener and one wrapper, not one more of each per start.
    let installed = true;
    const uninstall = (): void => {
      if (!installed) return;
      installed = false;
      offError(emitter, onError);
      // Koa's callback() added no printer of its own, the kit's listener being there: with none left,
      // an error of a request still running would be thrown by the emitter instead (Koa's own state
      // after callback() is its printer).
      if (
        isFunction(emitter.listenerCount) &&
        (emitter.listenerCount as (event: string) => number).call(app, 'error') === 0 &&
        isFunction(emitter.onerror)
      ) {
        (app.on as (event: 'error', listener: unknown) => unknown)('error', emitter.onerror);
        emitter[printerRestored] = emitter.onerror;
      }
      if (!wrapped) return;
      keeping = false;
      // Wrapped again on top of the kit's since (by the app or another runtime): that wrapper keeps
      // calling the kit's, which now only passes the call on.
      if (app.createContext !== keepingContext) return;
      if (ownCreateContext) app.createContext = createContext;
      else delete app.createContext;
    };
    let listener: NodeRequestListener;
    try {
      listener = app.callback();
    } catch (error) {
      uninstall();
      throw error;
    }
    return {
      kind: 'koa',
      listener: inFront(kit, listener),
      uninstall,
      routeOf: (req) => {
        const ctx = (req as IncomingMessage & { [koaContext]?: KoaContextLike })[koaContext];
        const route = ctx?._matchedRoute;
        return typeof route === 'string' ? (ctx?.[takenByMountsSlot] ?? '') + route : undefined;
      },
    };
  },
};
