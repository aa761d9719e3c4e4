/**
 * The route pattern of a request Express routed: the pattern of the routers it went through, then
 * the route's. Express gives the route's own pattern (`req.route.path`) but, for the routers above
 * it, only the path they matched (`req.baseUrl`: `/tenants/acme` for a router mounted on
 * `/tenants/:tenant`), which would put ids in span names and the metrics' `Route`. So the mount
 * pattern is found again: by matching `req.baseUrl` against the app's router tree, as Express did,
 * and writing each parameter's segment back as `:name`.
 */

/** A match of a layer, as Express 5's router (`router` 2.x) gives it. */
type LayerMatch = { path: string; params: Record<string, unknown> } | false;

/** A layer of an Express router's stack: the parts of Express 4's and Express 5's that are read. */
interface LayerLike {
  readonly handle?: unknown;
  readonly route?: unknown;
  /** Express 5: matches a path (pure), and a mount on `/` matches any. */
  readonly matchers?: readonly ((path: string) => LayerMatch)[];
  readonly slash?: boolean;
  /** Express 4: the layer's pattern as a regular expression, and its parameters' names. */
  readonly regexp?: RegExp & { fast_slash?: boolean };
  readonly keys?: readonly { name: string | number }[];
}

/** Routers nested deeper than this are not looked into. */
const maxDepth = 16;
/** Mount paths found without parameters are remembered (they are few); with one, the walk runs each time. */
const maxLiteral = 256;

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
function matchMount(
  layer: LayerLike,
  path: string,
): { matched: string; params: Record<string, unknown> } | undefined {
  if (layer.matchers !== undefined) {
    if (layer.slash === true) return { matched: '', params: {} };
    for (const matcher of layer.matchers) {
      const match = matcher(path);
      if (match !== false) return { matched: match.path, params: match.params };
    }
    return undefined;
  }
  if (layer.regexp === undefined) return undefined;
  if (layer.regexp.fast_slash === true) return { matched: '', params: {} };
  layer.regexp.lastIndex = 0;
  const match = layer.regexp.exec(path);
  if (match === null || match.index !== 0) return undefined;
  const params: Record<string, unknown> = {};
  const keys = layer.keys ?? [];
  for (let i = 0; i < keys.length; i++)
    if (match[i + 1] !== undefined) params[keys[i]!.name] = decoded(match[i + 1]!);
  return { matched: match[0], params };
}

/** A segment no app path holds: put in a parameter's place, it shows which segment the parameter is. */
const probe = 'ark-probe-3f9c1';

/**
 * `matched` (what `layer` matched) with each parameter's segment written as `:name`. A value found
 * in two segments (`/tenants/tenants`) is placed by matching again with a probe in each.
 */
function patternOf(layer: LayerLike, matched: string, params: Record<string, unknown>): string {
  const segments = matched.split('/');
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== 'string') continue; // a wildcard's segments: left as they are
    const candidates: number[] = [];
    for (let i = 0; i < segments.length; i++)
      if (segments[i] !== '' && !segments[i]!.startsWith(':') && decoded(segments[i]!) === value)
        candidates.push(i);
    const index =
      candidates.length <= 1
        ? candidates[0]
        : candidates.find((i) => {
            const probed = segments.map((segment, j) => (j === i ? probe : segment)).join('/');
            return matchMount(layer, probed)?.params[name] === probe;
          });
    if (index !== undefined) segments[index] = `:${name}`;
  }
  return segments.join('/');
}

/** The pattern of the mounts in `stack` that match all of `path`; `undefined` when none does. */
function mountPattern(stack: readonly LayerLike[], path: string, depth: number): string | undefined {
  if (path === '') return '';
  if (depth >= maxDepth) return undefined;
  for (const layer of stack) {
    if (layer.route !== undefined) continue;
    const inner = stackOf(layer.handle);
    if (inner === undefined) continue;
    const match = matchMount(layer, path);
    if (match === undefined) continue;
    const rest = path.slice(match.matched.length);
    if (rest !== '' && !rest.startsWith('/')) continue;
    const tail = mountPattern(inner, rest, depth + 1);
    if (tail !== undefined) return patternOf(layer, match.matched, match.params) + tail;
  }
  return undefined;
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
 * The route pattern of an Express request from its `req.baseUrl` and `req.route.path`, for `app`'s
 * router tree as it is at the time (routers may be added after the kit was installed).
 */
export function expressRouteResolver(app: object): (baseUrl: string, routePath: string) => string {
  const literal = new Set<string>();
  return (baseUrl, routePath) => {
    if (baseUrl === '' || literal.has(baseUrl)) return `${baseUrl}${routePath}`;
    const stack = routerStackOf(app);
    // Not found (a mounted sub-app, whose routers Express does not expose): the path it matched.
    const pattern = (stack === undefined ? undefined : mountPattern(stack, baseUrl, 0)) ?? baseUrl;
    if (pattern === baseUrl && literal.size < maxLiteral) literal.add(baseUrl);
    return `${pattern}${routePath}`;
  };
}
