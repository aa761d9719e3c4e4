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

import { SubApps } from './express-sub-apps.js';

/** What a mount matched: the path, its parameters, and which of its paths matched (an array mount). */
interface MountMatch {
  readonly matched: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly index: number;
}

/** A layer of an Express router's stack: the parts of Express 4's and Express 5's that are read. */
interface LayerLike {
  readonly handle?: unknown;
  readonly route?: unknown;
  /** Express 5: the pattern as given (router 2.3 and later). */
  readonly rawPath?: unknown;
  /** Express 5: match a path without changing the layer; a mount on `/` matches any. */
  readonly matchers?: readonly ((
    path: string,
  ) => { path: string; params: Record<string, unknown> } | false)[];
  readonly slash?: boolean;
  /** Express 4: the pattern as a regular expression, and its parameters' names. */
  readonly regexp?: RegExp & { fast_slash?: boolean };
  readonly keys?: readonly { name: string | number }[];
}

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
 * sub-app mounted some other way) once the path it matched has varied: that path is request text, and
 * a route named by it would make a span name, an annotation and a metrics slot per tenant.
 */
const variedMount = '/*';

/** Routers (and sub-apps) nested deeper than this are not looked into. */
const maxDepth = 16;
/** Chains kept per route (a router mounted at several places). */
const maxChains = 4;
/** Searches after which a route no router of the app holds (a mounted sub-app's) is no longer looked for. */
const maxMisses = 16;
/** Segments past which a value found in several is not placed by probing (the cost grows with them). */
const maxProbedSegments = 32;
/** Segments put in a parameter's place to see which segment it is (the second for `\d+` patterns). */
const probes = ['ark-probe-3f9c1', '739184620'];

function stackOf(handle: unknown): readonly LayerLike[] | undefined {
  const stack = (handle as { stack?: unknown } | undefined)?.stack;
  return typeof handle === 'function' && Array.isArray(stack) ? (stack as LayerLike[]) : undefined;
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Runs `match` with the app's own RegExps, which may be global or sticky, matching from the start,
 * and puts their `lastIndex` back as Express left it.
 */
function fromStart<T>(regexps: readonly RegExp[], match: () => T): T {
  const saved = regexps.map((regexp) => regexp.lastIndex);
  try {
    for (const regexp of regexps) regexp.lastIndex = 0;
    return match();
  } finally {
    regexps.forEach((regexp, i) => {
      regexp.lastIndex = saved[i]!;
    });
  }
}

/** What `layer`, a router's mount, matches at the start of `path`; `undefined` when it does not. */
function matchMount(layer: LayerLike, path: string): MountMatch | undefined {
  try {
    if (layer.matchers !== undefined) {
      if (layer.slash === true) return { matched: '', params: {}, index: 0 };
      const matchers = layer.matchers;
      const own = [layer.rawPath].flat().filter((p): p is RegExp => p instanceof RegExp);
      return fromStart(own, () => {
        for (let i = 0; i < matchers.length; i++) {
          const match = matchers[i]!(path);
          if (match !== false) return { matched: match.path, params: match.params, index: i };
        }
        return undefined;
      });
    }
    const regexp = layer.regexp;
    if (regexp === undefined) return undefined;
    if (regexp.fast_slash === true) return { matched: '', params: {}, index: 0 };
    const match = fromStart([regexp], () => regexp.exec(path));
    if (match === null || match.index !== 0) return undefined;
    const params: Record<string, unknown> = {};
    const keys = layer.keys ?? [];
    for (let i = 0; i < keys.length; i++)
      if (match[i + 1] !== undefined) params[keys[i]!.name] = decoded(match[i + 1]!);
    return { matched: match[0], params, index: 0 };
  } catch {
    return undefined; // a malformed %-escape in a parameter: Express failed that request too
  }
}

/**
 * The pattern of what `layer` matched: its own as given (router 2.3 and later), else the match with
 * each parameter's segment written as `:name`. A value in one segment is that parameter's; one found
 * in several (`/tenants/tenants`) is placed by matching again with a probe in each. A value of several
 * segments (Express 4's `*`, or a parameter of a pattern such as `(.*)`) becomes one segment: file
 * paths would be ids too. A parameter whose name is a number (`*`, a RegExp's group) is written `*`.
 */
function patternOf(layer: LayerLike, match: MountMatch): string {
  if (match.matched === '') return '';
  const raw = Array.isArray(layer.rawPath) ? layer.rawPath[match.index] : layer.rawPath;
  if (typeof raw === 'string') return raw.replace(/\/+$/, '');
  const segments = match.matched.split('/');
  const placed = new Set<number>();
  const runs: [value: string, written: string][] = [];
  for (const [name, value] of Object.entries(match.params)) {
    if (typeof value !== 'string' || value === '') continue;
    // A name that is a number is not one: Express 4's `*`, a group of a RegExp.
    const written = /^\d+$/.test(name) ? '*' : `:${name}`;
    if (value.includes('/')) {
      runs.push([value, written]); // after the others, which probing places on the path as matched
      continue;
    }
    const candidates: number[] = [];
    for (let i = 0; i < segments.length; i++)
      if (!placed.has(i) && segments[i] !== '' && decoded(segments[i]!) === value) candidates.push(i);
    let index = candidates.length === 1 ? candidates[0] : undefined;
    if (candidates.length > 1 && segments.length <= maxProbedSegments)
      index = candidates.find((i) =>
        probes.some((probe) => {
          const probed = segments.map((segment, j) => (j === i ? probe : segment)).join('/');
          return matchMount(layer, probed)?.params[name] === probe;
        }),
      );
    if (index === undefined) continue;
    placed.add(index);
    segments[index] = written;
  }
  for (const [value, written] of runs) placeRun(segments, placed, value, written);
  return segments.filter((segment) => segment !== runTail).join('/');
}

/** Marks the segments after the first of a run that {@link placeRun} wrote as one. */
const runTail = '\u0000';

/**
 * Writes `written` in place of the last free run of segments whose values, joined, are `value`
 * (several segments: a wildcard's), and marks the run's other segments {@link runTail}.
 */
function placeRun(segments: string[], placed: Set<number>, value: string, written: string): void {
  const length = value.split('/').length;
  // From the end: a wildcard ends its pattern, as a rule.
  for (let start = segments.length - length; start >= 0; start--) {
    const run = segments.slice(start, start + length);
    if (run.some((_, i) => placed.has(start + i))) continue;
    if (run.map(decoded).join('/') !== value) continue;
    segments.fill(runTail, start, start + length);
    segments[start] = written;
    for (let i = start; i < start + length; i++) placed.add(i);
    return;
  }
}

/** What `layer` matches at the start of `path`, and the rest, when the match ends at a segment's end. */
function mountAt(layer: LayerLike, path: string): { match: MountMatch; rest: string } | undefined {
  const match = matchMount(layer, path);
  if (match === undefined) return undefined;
  const rest = path.slice(match.matched.length);
  return rest === '' || rest.startsWith('/') ? { match, rest } : undefined;
}

/**
 * The trees below `layer` of `owner`'s, each with the app it belongs to: a router's; an app's used
 * as a router's middleware (`router.use(path, subApp)`); or, for another function (the closure
 * `app.use(path, subApp)` mounts a sub-app with), those of the sub-apps learned in `owner` (the
 * search then checks that the route is there).
 */
function innersOf(
  layer: LayerLike,
  owner: object,
  subApps: SubApps | undefined,
): { stack: readonly LayerLike[]; owner: object }[] {
  const handle = layer.handle;
  if (layer.route !== undefined || typeof handle !== 'function') return [];
  const routerStack = stackOf(handle);
  if (routerStack !== undefined) return [{ stack: routerStack, owner }];
  const appStack = routerStackOf(handle);
  if (appStack !== undefined) return [{ stack: appStack, owner: handle }];
  const inners: { stack: readonly LayerLike[]; owner: object }[] = [];
  for (const subApp of subApps?.of(owner) ?? []) {
    const stack = routerStackOf(subApp);
    if (stack !== undefined) inners.push({ stack, owner: subApp });
  }
  return inners;
}

/**
 * The mounts in `stack` (of `owner`'s tree), and in the routers and sub-apps below, that match all
 * of `path` and lead to a router whose stack holds `route`, appended to `layers`; `false` when
 * there are none.
 */
function findChain(
  stack: readonly LayerLike[],
  owner: object,
  subApps: SubApps,
  path: string,
  route: RouteLike,
  layers: LayerLike[],
  depth: number,
): boolean {
  if (path === '' && stack.some((layer) => layer.route === route)) return true;
  if (depth >= maxDepth) return false;
  for (const layer of stack) {
    const inners = innersOf(layer, owner, subApps);
    if (inners.length === 0) continue;
    const mount = mountAt(layer, path);
    if (mount === undefined) continue;
    layers.push(layer);
    for (const inner of inners)
      if (findChain(inner.stack, inner.owner, subApps, mount.rest, route, layers, depth + 1)) return true;
    layers.pop();
  }
  return false;
}

/** Whether a router of `stack`'s tree holds `route`, wherever it is mounted (sub-apps apart). */
function holds(stack: readonly LayerLike[], route: RouteLike, depth: number): boolean {
  if (depth >= maxDepth) return false;
  return stack.some((layer) => {
    if (layer.route === route) return true;
    return innersOf(layer, stack, undefined).some((inner) => holds(inner.stack, route, depth + 1));
  });
}

/** The pattern `chain` makes of `baseUrl`; `undefined` when its mounts do not match it. */
function patternAlong(chain: readonly LayerLike[], baseUrl: string): string | undefined {
  let path = baseUrl;
  let pattern = '';
  for (const layer of chain) {
    const mount = mountAt(layer, path);
    if (mount === undefined) return undefined;
    pattern += patternOf(layer, mount.match);
    path = mount.rest;
  }
  return path === '' ? pattern : undefined;
}

/** The stack of an Express app's router: Express 4's `_router`, Express 5's `router`. */
function routerStackOf(app: object): readonly LayerLike[] | undefined {
  const express4 = (app as { _router?: unknown })._router;
  if (express4 !== undefined) return stackOf(express4);
  try {
    return stackOf((app as { router?: unknown }).router);
  } catch {
    return undefined; // Express 4 before its first route: `app.router` throws
  }
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
      const pattern = patternAlong(chain.layers, baseUrl);
      if (pattern !== undefined) return pattern;
    }
    return undefined;
  }

  /** The pattern of the mounts that lead to `route` from `baseUrl`, searched for (and kept). */
  function search(state: RouteState, baseUrl: string, route: RouteLike, requestApp: unknown) {
    const stack = state.misses < maxMisses ? routerStackOf(app) : undefined;
    if (stack === undefined) return undefined;
    const layers: LayerLike[] = [];
    subApps.learn(app, requestApp);
    if (findChain(stack, app, subApps, baseUrl, route, layers, 0)) {
      if (baseUrl === '') return ''; // mounted on / too: served there
      const pattern = patternAlong(layers, baseUrl) ?? baseUrl;
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
