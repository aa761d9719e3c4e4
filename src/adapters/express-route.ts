/**
 * The route pattern of a request Express routed: the mount patterns of the routers it went through,
 * then the route's own. Express gives the route's pattern (`req.route.path`) but, for the routers
 * above it, only the path they matched (`req.baseUrl`: `/tenants/acme` for a router mounted on
 * `/tenants/:tenant`), which would put ids in span names and the metrics' `Route`. So the chain of
 * mounts that leads from the app's router to the route is found again (kept per route, and checked
 * against each request's `req.baseUrl`), and each mount's pattern read: from the layer (`rawPath`,
 * router 2.3 and later), or by writing each parameter's segment of what it matched as `:name` (and
 * a wildcard's segments as one `*`). A mounted sub-app's router is not in its parent's stack (the
 * parent holds a closure that calls it): it is reached through the app serving the request
 * (`req.app`), whose `parent`s lead back to the app.
 */

import {
  findMounts,
  innersOf,
  type LayerLike,
  maxDepth,
  patternAlong,
  routerStackOf,
} from './express-layers.js';
import { SubApps } from './express-sub-apps.js';

/** A route as Express puts it on the request (`req.route`) and in its router's stack. */
export interface RouteLike {
  readonly path?: unknown;
}

/** The mounts from the app's router to a route, and the pattern they make when it has no parameter. */
interface Chain {
  readonly layers: readonly LayerLike[];
  /** The chain's path when none of its mounts has a parameter: `req.baseUrl` is then always it. */
  readonly literal: string | undefined;
}

/** What is known of a route: the chains that lead to it, its last pattern, and failed searches. */
interface RouteState {
  readonly chains: Chain[];
  pattern: string | undefined;
  misses: number;
  /** The path a mount nothing leads to matched, while it is always the same; {@link variedMount} after. */
  unresolved: string | undefined;
}

/**
 * What stands for a mount that nothing in the app's router tree leads to (a router reached through a
 * function of the app's, `app.use('/t/:tenant', (req, res, next) => tenants(req, res, next))`, or a
 * sub-app mounted some other way) once the path it matched has varied, and for a mount whose pattern
 * cannot be written (a RegExp's, `/^\/v\d+/`): that path is request text, and a route named by it
 * would make a span name, an annotation and a metrics slot per tenant.
 */
const variedMount = '/*';

/** Chains kept per route (a router mounted at several places). */
const maxChains = 4;
/** Searches after which a route no router of the app holds (a mounted sub-app's) is no longer looked for. */
const maxMisses = 16;
/** Whether a router of `stack`'s tree holds `route`, wherever it is mounted (sub-apps apart). */
function holds(stack: readonly LayerLike[], route: RouteLike, depth: number): boolean {
  if (depth >= maxDepth) return false;
  return stack.some((layer) => {
    if (layer.route === route) return true;
    return innersOf(layer, stack, undefined).some((inner) => holds(inner.stack, route, depth + 1));
  });
}

/**
 * The route pattern of an Express request from its `req.baseUrl`, `req.route` and `req.app`, for
 * `app`'s router tree as it is at the time (routers may be added after the kit was installed),
 * sub-apps mounted with `app.use(path, subApp)` included: `requestApp` (`req.app`) is the sub-app
 * that served the route. When `req.baseUrl` does not lead to the route and `below` (`req.url`) is
 * given — an error handler or a middleware mounted below the route's router answered, and
 * `req.baseUrl` is the handler's — the route's mount is what the whole path (`req.baseUrl`, then
 * `below`) has above the route's own segments. When nothing leads to the route — an error answered
 * by an enclosing router or app, where Express has put back that router's `baseUrl` — the route's
 * last pattern; with none yet, or for a route no mount leads to (a router reached through a function
 * of the app's, a sub-app mounted some other way), the path its mount matched while that is always
 * the same (a mount with no parameter), `/*` once it has varied.
 */
export function expressRouteResolver(
  app: object,
): (baseUrl: string, route: RouteLike & { path: string }, requestApp?: unknown, below?: string) => string {
  const states = new WeakMap<RouteLike, RouteState>();
  const subApps = new SubApps();
  let mounted = false; // a route was seen under a mount: before that, no lookup on the common path

  /** The pattern of the known chain of `state` that leads to the route from `baseUrl`. */
  function along(state: RouteState, baseUrl: string): string | undefined {
    for (const chain of state.chains) if (chain.literal === baseUrl) return baseUrl;
    for (const chain of state.chains) {
      const along = patternAlong(chain.layers, baseUrl);
      if (along !== undefined) return along.pattern ?? variedMount;
    }
    return undefined;
  }

  /** The pattern of the mounts that lead to `route` from `baseUrl`, searched for (and kept). */
  function search(state: RouteState, baseUrl: string, route: RouteLike, requestApp: unknown) {
    const stack = state.misses < maxMisses ? routerStackOf(app) : undefined;
    if (stack === undefined) return undefined;
    const layers: LayerLike[] = [];
    subApps.learn(app, requestApp);
    const holdsRoute = (inner: readonly LayerLike[], rest: string) =>
      rest === '' && inner.some((layer) => layer.route === route);
    if (findMounts(stack, app, subApps, baseUrl, layers, holdsRoute)) {
      if (baseUrl === '') return ''; // mounted on / too: served there
      // A mount whose pattern cannot be written (a RegExp's) is no path of the request's either.
      const pattern = patternAlong(layers, baseUrl)?.pattern ?? variedMount;
      if (state.chains.length >= maxChains) state.chains.shift();
      state.chains.push({ layers, literal: pattern === baseUrl ? baseUrl : undefined });
      state.pattern = pattern;
      return pattern;
    }
    // Counted only for a route no router of the app or of the sub-apps serving it holds (a
    // sub-app mounted some other way): searching is in vain.
    const trees = [stack, ...[...subApps.all()].map(routerStackOf)];
    if (!trees.some((tree) => tree !== undefined && holds(tree, route, 0))) state.misses++;
    return undefined;
  }

  return (baseUrl, route, requestApp, below) => {
    if (baseUrl === '' && !mounted) return route.path;
    let state = states.get(route);
    // The common case: a route of the app's own router (no state: never seen under a mount).
    if (baseUrl === '' && state === undefined) return route.path;
    if (state !== undefined && baseUrl !== '') {
      const known = along(state, baseUrl);
      if (known !== undefined) return `${known}${route.path}`;
    }
    // A handler mounted below the route's router answered when the route's own segments of the
    // whole path leave more above them than `baseUrl`: the route's mount is what is above them.
    let from = baseUrl;
    if (below !== undefined && !unsizedPattern.test(route.path)) {
      from = lostMountPath(`${baseUrl}${below}`, route.path);
      if (from === '') return route.path; // the app's own route, or one mounted on /
      if (from !== baseUrl && state !== undefined) {
        const known = along(state, from);
        if (known !== undefined) return `${known}${route.path}`;
      }
    }
    if (state === undefined) {
      state = { chains: [], pattern: undefined, misses: 0, unresolved: undefined };
      states.set(route, state);
      mounted = true;
    }
    const found = search(state, from, route, requestApp);
    return `${found ?? state.pattern ?? unresolvedMount(state, from)}${route.path}`;
  };
}

/**
 * The path `from` a mount nothing leads to matched while it stays the same, then
 * {@link variedMount}. The same as Express routes by default: whatever the case, and with or without
 * a trailing `/` (`/V1/` is `/v1`).
 */
function unresolvedMount(state: RouteState, from: string): string {
  if (state.unresolved === undefined) state.unresolved = from;
  else if (state.unresolved !== variedMount && !sameMountPath(state.unresolved, from))
    state.unresolved = variedMount;
  return state.unresolved;
}

function sameMountPath(a: string, b: string): boolean {
  return a === b || withoutTrailingSlash(a).toLowerCase() === withoutTrailingSlash(b).toLowerCase();
}

function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** Characters of a route pattern whose segment count is not the path's (`*`, `?`, `(`, `{`, `+`). */
const unsizedPattern = /[*?(){}+]/;

/**
 * The mount an error left a request by: an error leaving a mounted router puts `req.baseUrl` back
 * (to `''` at the app), and leaves `req.route` on the inner route, whose pattern then matches only
 * the tail of the path. The part of `path` (without query) above that tail, as many segments as
 * `routePath` has, is what the mounts matched; `''` when nothing is above it, or when the pattern's
 * segments are not countable (a wildcard, an optional part).
 *
 * @example
 * ```ts
 * lostMountPath('/tenants/acme/items/1/boom', '/items/:id/boom'); // '/tenants/acme'
 * lostMountPath('/items/1', '/items/:id'); // ''
 * ```
 */
export function lostMountPath(path: string, routePath: string): string {
  if (unsizedPattern.test(routePath)) return '';
  let end = path.indexOf('?');
  if (end === -1) end = path.length;
  if (end > 1 && path.charCodeAt(end - 1) === 47 /* / */) end--; // a trailing slash, non-strict routing
  // The route's segments, counted from the end of the path: `/` alone is none.
  let segments = routePath === '/' ? 0 : countSlashes(routePath);
  let cut = end;
  while (segments > 0) {
    cut = path.lastIndexOf('/', cut - 1);
    if (cut <= 0) return '';
    segments--;
  }
  const mount = path.slice(0, cut);
  return mount === '/' ? '' : mount;
}

function countSlashes(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 47) count++;
  return count;
}
