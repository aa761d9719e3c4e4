/**
 * The route pattern of a request Express routed: the mount patterns of the routers it went through,
 * then the route's own. Express gives the route's pattern (`req.route.path`) but, for the routers
 * above it, only the path they matched (`req.baseUrl`: `/tenants/acme` for a router mounted on
 * `/tenants/:tenant`), which would put ids in span names and the metrics' `Route`. So the chain of
 * mounts that leads from the app's router to the route is found again (once per route, then checked
 * against each request's `req.baseUrl`), and each mount's pattern read: from the layer (`rawPath`,
 * router 2.3 and later), or by placing each parameter of what it matched with a probe match.
 */

/** What a mount matched: the path, and its parameters. */
interface MountMatch {
  readonly matched: string;
  readonly params: Readonly<Record<string, unknown>>;
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

/** Routers nested deeper than this are not looked into. */
const maxDepth = 16;
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

/** What `layer`, a router's mount, matches at the start of `path`; `undefined` when it does not. */
function matchMount(layer: LayerLike, path: string): MountMatch | undefined {
  try {
    if (layer.matchers !== undefined) {
      if (layer.slash === true) return { matched: '', params: {} };
      for (const matcher of layer.matchers) {
        const match = matcher(path);
        if (match !== false) return { matched: match.path, params: match.params };
      }
      return undefined;
    }
    const regexp = layer.regexp;
    if (regexp === undefined) return undefined;
    if (regexp.fast_slash === true) return { matched: '', params: {} };
    // The app's own RegExp may be global or sticky: leave its state as Express left it.
    const lastIndex = regexp.lastIndex;
    regexp.lastIndex = 0;
    const match = regexp.exec(path);
    regexp.lastIndex = lastIndex;
    if (match === null || match.index !== 0) return undefined;
    const params: Record<string, unknown> = {};
    const keys = layer.keys ?? [];
    for (let i = 0; i < keys.length; i++)
      if (match[i + 1] !== undefined) params[keys[i]!.name] = decoded(match[i + 1]!);
    return { matched: match[0], params };
  } catch {
    return undefined; // a malformed %-escape in a parameter: Express failed that request too
  }
}

/** Where each parameter of a mount sits among the segments of what it matched, by segment count. */
const placements = new WeakMap<LayerLike, Map<number, ReadonlyMap<string, number>>>();

/** The index of the segment each parameter of `match` is: probed once per layer and segment count. */
function placementOf(
  layer: LayerLike,
  segments: readonly string[],
  match: MountMatch,
): ReadonlyMap<string, number> {
  let byCount = placements.get(layer);
  const known = byCount?.get(segments.length);
  if (known !== undefined) return known;
  const placed = new Map<string, number>();
  for (const name of Object.keys(match.params)) {
    for (let i = 0; i < segments.length && !placed.has(name); i++) {
      if (segments[i] === '') continue;
      for (const probe of probes) {
        const probed = segments.map((segment, j) => (j === i ? probe : segment)).join('/');
        if (matchMount(layer, probed)?.params[name] === probe) {
          placed.set(name, i);
          break;
        }
      }
    }
  }
  if (byCount === undefined) {
    byCount = new Map();
    placements.set(layer, byCount);
  }
  byCount.set(segments.length, placed);
  return placed;
}

/** The pattern of what `layer` matched: its own, or the match with each parameter as `:name`. */
function patternOf(layer: LayerLike, match: MountMatch): string {
  if (match.matched === '') return '';
  if (typeof layer.rawPath === 'string') return layer.rawPath.replace(/\/+$/, '');
  if (Object.keys(match.params).length === 0) return match.matched;
  const segments = match.matched.split('/');
  for (const [name, index] of placementOf(layer, segments, match)) segments[index] = `:${name}`;
  return segments.join('/');
}

/** `path` less what `match` matched, when the match ends at a segment's end. */
function restOf(path: string, match: MountMatch): string | undefined {
  const rest = path.slice(match.matched.length);
  return rest === '' || rest.startsWith('/') ? rest : undefined;
}

/**
 * The mounts in `stack`, and in the routers below, that match all of `path` and lead to a router
 * whose stack holds `route`, appended to `layers`; `false` when there are none.
 */
function findChain(
  stack: readonly LayerLike[],
  path: string,
  route: RouteLike,
  layers: LayerLike[],
  depth: number,
): boolean {
  if (path === '' && stack.some((layer) => layer.route === route)) return true;
  if (depth >= maxDepth) return false;
  for (const layer of stack) {
    if (layer.route !== undefined) continue;
    const inner = stackOf(layer.handle);
    if (inner === undefined) continue;
    const match = matchMount(layer, path);
    const rest = match === undefined ? undefined : restOf(path, match);
    if (rest === undefined) continue;
    layers.push(layer);
    if (findChain(inner, rest, route, layers, depth + 1)) return true;
    layers.pop();
  }
  return false;
}

/** The pattern `chain` makes of `baseUrl`; `undefined` when its mounts do not match it. */
function patternAlong(chain: readonly LayerLike[], baseUrl: string): string | undefined {
  let path = baseUrl;
  let pattern = '';
  for (const layer of chain) {
    const match = matchMount(layer, path);
    const rest = match === undefined ? undefined : restOf(path, match);
    if (match === undefined || rest === undefined) return undefined;
    pattern += patternOf(layer, match);
    path = rest;
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
 * The route pattern of an Express request from its `req.baseUrl` and `req.route`, for `app`'s router
 * tree as it is at the time (routers may be added after the kit was installed). A route no chain of
 * mounts leads to (one of a mounted sub-app, whose routers Express does not expose) keeps the path
 * its mount matched.
 */
export function expressRouteResolver(
  app: object,
): (baseUrl: string, route: RouteLike & { path: string }) => string {
  const chains = new WeakMap<RouteLike, Chain | null>();
  return (baseUrl, route) => {
    if (baseUrl === '') return route.path;
    let chain = chains.get(route);
    if (chain === null) return `${baseUrl}${route.path}`;
    if (chain?.literal === baseUrl) return `${baseUrl}${route.path}`;
    let pattern = chain === undefined ? undefined : patternAlong(chain.layers, baseUrl);
    if (pattern === undefined) {
      // First seen, or a route mounted at two places: find its chain for this request.
      const stack = routerStackOf(app);
      const layers: LayerLike[] = [];
      if (stack === undefined || !findChain(stack, baseUrl, route, layers, 0)) {
        chains.set(route, null);
        return `${baseUrl}${route.path}`;
      }
      pattern = patternAlong(layers, baseUrl) ?? baseUrl;
      chain = { layers, literal: pattern === baseUrl ? baseUrl : undefined };
      chains.set(route, chain);
    }
    return `${pattern}${route.path}`;
  };
}
