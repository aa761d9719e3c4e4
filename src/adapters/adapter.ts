import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { NodeRequestListener } from '../config/options.js';
import type { RouteResolver } from '../http/request-scope.js';
import { callListener } from '../http/thrown-out.js';
import type { HealthEndpoints, LoadShedder, RequestScope } from './kit-parts.js';

/** What the kit gives an adapter to install itself. */
export interface AdapterKit {
  readonly scope: RequestScope;
  readonly health: HealthEndpoints;
  readonly logger: Logger;
  /** Health requests enter the request scope too (`logging.healthRequests`). */
  readonly logHealthRequests: boolean;
  /** Load shedding, when configured: checked after the health endpoints, before the request scope. */
  readonly shedder: LoadShedder | undefined;
  /** The signals the kit handles (`shutdown.signals`): a framework's own listeners on them are in the way. */
  readonly shutdownSignals: readonly NodeJS.Signals[];
  /**
   * Records an error a route threw on the current request: it is logged with the request line (or
   * on its own line when that is off) and marks the request's trace as a fault.
   */
  reportError(error: unknown): void;
}

/** An app with the kit installed, ready for the kit to serve. */
export interface InstalledApp {
  /** `node`, `express`, `koa`, `fastify`. */
  readonly kind: string;
  /** A request listener for a server the kit creates; absent when the framework owns its server. */
  readonly listener?: NodeRequestListener;
  /** The framework's own server (Fastify), which the kit listens with and drains. */
  readonly server?: Server;
  /** Run before listening (Fastify's `ready()`). */
  ready?(): Promise<void>;
  /**
   * Run once the requests are drained, before the shutdown hooks (Fastify's `close()`: its `preClose`
   * hooks may end the upgraded connections still open, then its `onClose` hooks run).
   */
  afterDrain?(): Promise<void>;
  /** The route pattern of a request, once the framework routed it. */
  readonly routeOf?: RouteResolver;
  /**
   * Takes back what the install added to the app object (Koa's `error` listener and `createContext`
   * wrapper), once the runtime stopped or its start failed: an app bootstrapped again (tests, a hot
   * reload) then gets the kit once, and a stopped runtime is not held by the app.
   */
  uninstall?(): void;
}

/** Recognises one framework's apps by shape and installs the kit on them. */
export interface AppAdapter<A = unknown> {
  readonly name: string;
  /** True when `app` has this framework's shape; never imports the framework. */
  matches(app: unknown): app is A;
  install(app: A, kit: AdapterKit): InstalledApp;
  /**
   * Throws when `app`, of this framework, cannot take the kit now (a Fastify instance booting, from
   * inside one of its plugins): called as the adapter is chosen, before the kit sets anything up.
   */
  assertInstallable?(app: A): void;
  /**
   * The app's own logger, when the framework has one (Fastify's `fastify.log`): when `createLogger`
   * built it, the kit writes its lines through it too.
   */
  loggerOf?(app: A): unknown;
}

/** An adapter of any framework, as `bootstrapAppRunner({ adapter })` takes it. */
export interface AnyAppAdapter {
  readonly name: string;
  matches(app: unknown): boolean;
  install(app: never, kit: AdapterKit): InstalledApp;
  assertInstallable?(app: never): void;
  loggerOf?(app: never): unknown;
}

/**
 * The id a framework gives a request, which the kit takes when well formed (see
 * {@link RequestScope.run}): the id itself, or the function that makes it, asked only for a request
 * that enters the scope (not one the health endpoints answer or load shedding turns away).
 */
export type FrameworkRequestId = string | ((req: IncomingMessage) => string | undefined) | undefined;

/**
 * The kit's part of one request, the same on every adapter: the health endpoints, load shedding, then
 * `handler` inside the request scope. `answered` runs when the kit answered the request itself
 * (Fastify hijacks its reply there); `requestId` is the id the framework gives the request, when it
 * gives one the kit takes.
 */
export function serveInFront(
  kit: AdapterKit,
  req: IncomingMessage,
  res: ServerResponse,
  handler: () => void,
  answered?: () => void,
  requestId?: FrameworkRequestId,
): void {
  const { scope, health, shedder } = kit;
  if (!kit.logHealthRequests && health.handle(req, res)) {
    answered?.();
    return;
  }
  // A health request reaches this point only when health requests are logged: never shed, and not
  // counted among the app's requests in flight.
  const healthRequest = kit.logHealthRequests && health.matches(req);
  if (shedder !== undefined && !healthRequest && !shedder.admits(req, res, scope.inFlight)) {
    // Outside the request scope (no line is written for it): the caller's own id comes back, so that
    // its logs show which call was shed; none is made up, since no line of ours would carry it.
    const adopted = scope.requestIdHeader === undefined ? undefined : scope.adoptedRequestIdOf(req);
    if (adopted !== undefined) res.setHeader(scope.requestIdHeader!, adopted);
    shedder.reject(req, res);
    answered?.();
    return;
  }
  scope.run(
    req,
    res,
    () => {
      if (healthRequest && health.handle(req, res)) answered?.();
      else handler();
    },
    typeof requestId === 'function' ? requestId(req) : requestId,
    !healthRequest,
  );
}

/**
 * Puts the health endpoints and the request scope in front of `handler`, the same way for every
 * adapter. `requestIdOf`: the framework's id of a request that enters the scope (Fastify's).
 */
export function inFront(
  kit: AdapterKit,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  requestIdOf?: (req: IncomingMessage) => string | undefined,
): NodeRequestListener {
  const { scope, health } = kit;
  if (kit.logHealthRequests || kit.shedder !== undefined) {
    return function apprunnerKitListener(req, res): void {
      serveInFront(kit, req, res, () => callListener(handler, req, res), undefined, requestIdOf);
    };
  }
  if (requestIdOf !== undefined) {
    return function apprunnerKitListener(req, res): void {
      if (health.handle(req, res)) return;
      scope.run(req, res, () => callListener(handler, req, res), requestIdOf(req));
    };
  }
  // The common case, kept free of the branches above.
  return function apprunnerKitListener(req, res): void {
    if (health.handle(req, res)) return;
    scope.run(req, res, () => callListener(handler, req, res));
  };
}

/** True for a function. */
export function isFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === 'function';
}
