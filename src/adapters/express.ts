/**
 * `apprunner-kit/express`: the Express 4 and 5 adapter. `bootstrapAppRunner({ app })` picks it for an
 * Express app by itself; import it from here to name it explicitly (`adapter: expressAdapter`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { cutSlot, getMutableRequestContext } from '../http/context.js';
import { originTarget } from '../http/path.js';
import { type AdapterKit, type AppAdapter, inFront, isFunction } from './adapter.js';
import { failedMountOf, watchMountErrors } from './express-failed-mount.js';
import { expressMountResolver } from './express-mount.js';
import { expressRouteResolver, lostMountPath } from './express-route.js';

export { getRequestContext, type RequestContext, type RequestFieldValue } from '../http/context.js';
export { reportRequestError } from '../http/request-errors.js';
export { addRequestFields } from '../http/request-fields.js';
export { setRequestRoute } from '../http/request-route.js';
export { flushRequestLogs } from '../logging/held-lines.js';

/** What the kit needs of an Express app: it is a request listener with a final callback. */
export interface ExpressLikeApp {
  (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  use: (...args: never[]) => unknown;
  set: (...args: never[]) => unknown;
  handle: (...args: never[]) => unknown;
}

/** What the route lookup reads of an Express request. */
type ExpressRequest = IncomingMessage & {
  readonly route?: { readonly path?: unknown };
  readonly baseUrl?: unknown;
  /** The app serving the request: a sub-app's, while it does. */
  readonly app?: unknown;
  readonly res?: { readonly statusCode?: number };
};

/** An HTTP error status: an integer from 400 to 599. */
function isErrorStatus(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599;
}

/** The error's own status, as Express's final handler reads it: `status`, else `statusCode`, when 4xx/5xx. */
function errorStatusOf(error: unknown): number | undefined {
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  if (isErrorStatus(status)) return status;
  return isErrorStatus(statusCode) ? statusCode : undefined;
}

/**
 * Puts the headers an error with a status of its own carries (`err.headers`, as `http-errors`, `send`
 * and Auth0's `express-oauth2-jwt-bearer` set them: `WWW-Authenticate` on a 401, `Retry-After` on a
 * 503) on its answer, as Express's final handler does. One Node refuses (a bad name or value) is left
 * out and said so: the answer still goes out.
 */
function setErrorHeaders(kit: AdapterKit, res: ServerResponse, headers: unknown): void {
  if (typeof headers !== 'object' || headers === null) return;
  for (const [name, value] of Object.entries(headers)) {
    try {
      res.setHeader(name, value as string | number | readonly string[]);
    } catch (error) {
      kit.logger.warn(
        { err: error, header: name },
        "a header of the route's error was left out of its answer",
      );
    }
  }
}

/** Requests the kit's final handler answered 404: no route answered them. */
const unrouted = new WeakSet<IncomingMessage>();

function sendText(res: ServerResponse, status: number, text: string): void {
  const body = Buffer.from(text);
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(body.length),
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

/**
 * Closes the connection of a response that began and cannot end well (what Express's final handler
 * does), saying so on the request's context: its line is then a failure, not a client's abort. A
 * response the app has ended is left to finish (its body may still be on its way): it is whole.
 */
function cutShort(req: IncomingMessage, res: ServerResponse): void {
  if (res.writableEnded) return;
  const context = getMutableRequestContext();
  if (context !== undefined && !req.socket.destroyed) context[cutSlot] = true;
  req.socket.destroy();
}

/**
 * The kit's replacement for Express's final handler (which, outside `NODE_ENV=production`, sends the
 * stack trace to the client): a route's error becomes its status, with the headers it carries (an
 * `http-errors` 4xx keeps its exposed message), or the 4xx/5xx the app set on the response, or a 500,
 * with no detail, logged with the request; anything unrouted is a 404. The app's own error
 * middleware runs first, as always.
 */
function finalHandler(kit: AdapterKit, req: IncomingMessage, res: ServerResponse) {
  return (error?: unknown): void => {
    if (error !== undefined && error !== null && error !== 'route' && error !== 'router') {
      kit.reportError(error);
      if (res.headersSent) {
        cutShort(req, res);
        return;
      }
      // Express's final handler: the error's status with its headers, else a 4xx or 5xx the app set
      // before passing the error on (`res.status(400); next(err)`), else 500.
      let status = errorStatusOf(error);
      // A body of the kit's own: not in the encoding, language or range of one the app began.
      res.removeHeader('content-encoding');
      res.removeHeader('content-language');
      res.removeHeader('content-range');
      if (status !== undefined) setErrorHeaders(kit, res, (error as { headers?: unknown }).headers);
      else status = isErrorStatus(res.statusCode) ? res.statusCode : 500;
      const exposed = status < 500 && (error as { expose?: unknown }).expose === true;
      sendText(res, status, exposed ? String((error as Error).message) : (STATUS_CODES[status] ?? 'Error'));
      return;
    }
    if (res.headersSent) {
      cutShort(req, res);
      return;
    }
    // No route answered: one may have matched and passed the request on (`next()`, `next('route')`),
    // which leaves it on `req.route`, but a route that declined the request is not its route.
    unrouted.add(req);
    sendText(res, 404, 'Not Found');
  };
}

/**
 * The Express adapter: the kit in front of the app, Express's route pattern on the request line (the
 * mount's, for a middleware mounted on a path that answered without a route).
 */
export const expressAdapter: AppAdapter<ExpressLikeApp> = {
  name: 'express',
  // Only `use`, `set` and `handle`: Express 4's `app.router` getter throws, so it is never touched.
  matches: (app): app is ExpressLikeApp =>
    typeof app === 'function' &&
    isFunction((app as Partial<ExpressLikeApp>).use) &&
    isFunction((app as Partial<ExpressLikeApp>).set) &&
    isFunction((app as Partial<ExpressLikeApp>).handle),
  install: (app, kit) => {
    const resolve = expressRouteResolver(app);
    const resolveMount = expressMountResolver(app);
    // Express 4 makes the app's router with its first layer: watched from the first request then.
    let watching = watchMountErrors(app);
    return {
      kind: 'express',
      listener: inFront(kit, (req, res) => {
        if (!watching) watching = watchMountErrors(app);
        app(req, res, finalHandler(kit, req, res));
      }),
      routeOf: (req) => {
        const { route, baseUrl } = req as ExpressRequest;
        if (typeof route?.path !== 'string') {
          // A middleware mounted on a path answered (`app.use('/graphql', middleware)`, as Apollo
          // Server's and GraphQL Yoga's docs have it): its mount's pattern. One that passed the
          // request on put `req.baseUrl` back; the kit's 404 has no route. One that passed an
          // error on (or a router or sub-app whose middleware did) put it back too: its mount's
          // pattern, noted as the error left it.
          if (unrouted.has(req)) return undefined;
          try {
            if (typeof baseUrl === 'string' && baseUrl !== '')
              return resolveMount(baseUrl, (req as ExpressRequest).app);
            const failed = failedMountOf(req);
            return failed === undefined ? undefined : resolveMount(failed.baseUrl, failed.app);
          } catch {
            return undefined; // never let a router's oddity break the response's close
          }
        }
        let mounted = typeof baseUrl === 'string' ? baseUrl : '';
        // The path below `req.baseUrl`, in case that is not the route's: an error handler or a
        // middleware mounted below the route's router answered (`req.baseUrl` is then its).
        let below: string | undefined;
        // In origin form: Express keeps an absolute-form target's `http://host` in a mount's req.url.
        if (mounted !== '') below = req.url === undefined ? undefined : originTarget(req.url);
        else {
          // An error that left a mounted router put its baseUrl back: found again from the URL, as
          // the app's router sees it (Express puts `req.url` back too; a prefix the app's
          // middleware stripped is no mount). Only on a failed response, where such an error
          // leads: a request that went well costs nothing. The kit's own 404 has no route.
          const status = (req as ExpressRequest).res?.statusCode ?? 0;
          if (status >= 400) {
            if (status === 404 && unrouted.has(req)) return undefined;
            mounted = lostMountPath(originTarget(req.url), route.path);
          }
        }
        try {
          return resolve(mounted, route as { path: string }, (req as ExpressRequest).app, below);
        } catch {
          return `${mounted}${route.path}`; // never let a router's oddity break the response's close
        }
      },
    };
  },
};
