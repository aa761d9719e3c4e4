import { noRoute, otherRoutes } from '../metrics/request-metrics.js';
import { durationSlot, getMutableRequestContext, scopeSlot } from './context.js';

/**
 * Characters of a route {@link setRequestRoute} takes: a pattern, not a document. Bounded because the
 * route becomes a metric dimension (CloudWatch takes values of up to 1,024 characters) and a span name.
 */
const maxRouteLength = 256;

/** Why `route` is not a route {@link setRequestRoute} takes; `undefined` when it is one. */
function refusal(route: unknown): string | undefined {
  if (typeof route !== 'string') return `not a string: ${route === null ? 'null' : typeof route}`;
  if (route.length === 0) return 'an empty string';
  if (route.length > maxRouteLength) return `${route.length} characters, over ${maxRouteLength}`;
  // The metrics' own values, for requests with no route and past `metrics.maxRoutes`.
  if (route === noRoute || route === otherRoutes) return `the metrics' own Route value ${route}`;
  for (let i = 0; i < route.length; i++) {
    const code = route.charCodeAt(i);
    // A line break or another control character would split or garble the metric's dimension and the
    // span's name in consoles that show them as they are.
    if (code < 0x20 || code === 0x7f) return 'a control character';
  }
  return undefined;
}

/**
 * Names the route of the request being handled: its pattern (`/posts/:id`), not its path
 * (`/posts/42`), so that its requests are counted together. The request line's `route`, the
 * request metrics' `Route` dimension and the request's span (its name, `GET /posts/:id`, and its
 * `http.route` attribute; X-Ray's `http_route` annotation) then carry it; `getRequestContext().route`
 * shows it at once. Made for a framework the kit does not route, handed to it as a Node request
 * listener (Hono, h3, Next.js). In an Express, Fastify or Koa app, the route named here wins over the
 * one the adapter finds; called more than once, the last call wins.
 *
 * A route is a string of 1 to 256 characters with no control characters (a line break, a tab), other
 * than `(none)` and `other`, the metrics' own `Route` values; a lone surrogate is replaced by U+FFFD.
 * Anything else is refused: the request keeps the route it
 * had, and one warning line per request says what was refused and why. Name it before the response
 * ends: the request line, the metrics and the span read it then.
 *
 * @param route The request's route pattern, as the framework writes it (`/posts/:id`,
 * `/posts/[id]`, `/_next/static/*`).
 * @returns `true` when the route was taken; `false` outside any request, for a refused route, or once
 * the request's line was written (all of which change nothing).
 *
 * @example Hono through getRequestListener, its route pattern named once routed
 * ```ts
 * import { getRequestListener } from '@hono/node-server';
 * import { Hono } from 'hono';
 * import { routePath } from 'hono/route';
 * import { bootstrapAppRunner, setRequestRoute } from 'apprunner-kit';
 *
 * const app = new Hono();
 * app.use(async (c, next) => {
 *   await next();
 *   setRequestRoute(routePath(c));
 * });
 * app.get('/posts/:id', (c) => c.json({ id: c.req.param('id') }));
 * await bootstrapAppRunner({ app: getRequestListener(app.fetch) });
 * ```
 */
export function setRequestRoute(route: string): boolean {
  const context = getMutableRequestContext();
  if (context === undefined || context[durationSlot] !== undefined) return false;
  const reason = refusal(route);
  if (reason !== undefined) {
    context[scopeSlot]?.routeRefused(context, route, reason);
    return false;
  }
  context.route = route.toWellFormed();
  return true;
}
