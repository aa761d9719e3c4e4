/**
 * What the layers of an Express router match, and the patterns they were given: the primitives of the
 * route lookups (`express-route.ts` for a route, `express-mount.ts` for a mounted middleware). Express
 * gives the path a mount matched (`req.baseUrl`: `/tenants/acme`), not its pattern
 * (`/tenants/:tenant`), which is read from the layer (`rawPath`, router 2.3 and later), or found
 * again by writing each parameter's segment of what it matched as `:name`.
 */

import type { SubApps } from './express-sub-apps.js';

/** What a mount matched: the path, its parameters, and which of its paths matched (an array mount). */
export interface MountMatch {
  readonly matched: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly index: number;
}

/** A layer of an Express router's stack: the parts of Express 4's and Express 5's that are read. */
export interface LayerLike {
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

/** Routers (and sub-apps) nested deeper than this are not looked into. */
export const maxDepth = 16;

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
 * each parameter's segment written as `:name`. A value in one segment is that parameter's (Express 4
 * decodes `a%2Fb` to `a/b`: one segment still); one found in several (`/tenants/tenants`) is placed
 * by matching again with a probe in each. A value of several segments (Express 4's `*`, or a
 * parameter of a pattern such as `(.*)`) becomes one segment: file paths would be ids too. A
 * parameter whose name is a number (`*`, a RegExp's group) is written `*`. The other segments are
 * written as the app did (Express 4 matches `/GRAPHQL` with `/GraphQL` by default). `undefined` when
 * the pattern cannot be written without the request's own text: a RegExp mount (`/^\/v\d+/` matches
 * `/v2`, `/v3`, …), or a parameter whose value is found in no segment.
 */
function patternOf(layer: LayerLike, match: MountMatch): string | undefined {
  if (match.matched === '') return '';
  const raw = Array.isArray(layer.rawPath) ? layer.rawPath[match.index] : layer.rawPath;
  if (typeof raw === 'string') return raw.replace(/\/+$/, '');
  if (raw instanceof RegExp || !writtenAsString(layer)) return undefined;
  const segments = match.matched.split('/');
  const placed = new Set<number>();
  const runs: [value: string, written: string][] = [];
  for (const [name, param] of Object.entries(match.params)) {
    const value = Array.isArray(param) ? param.join('/') : param;
    if (typeof value !== 'string' || value === '') continue;
    // A name that is a number is not one: Express 4's `*`, a group of a RegExp.
    const written = /^\d+$/.test(name) ? '*' : `:${name}`;
    const candidates: number[] = [];
    for (let i = 0; i < segments.length; i++)
      if (!placed.has(i) && segments[i] !== '' && decoded(segments[i]!) === value) candidates.push(i);
    if (candidates.length === 0 && value.includes('/')) {
      runs.push([value, written]); // after the others, which probing places on the path as matched
      continue;
    }
    let index = candidates.length === 1 ? candidates[0] : undefined;
    if (candidates.length > 1 && segments.length <= maxProbedSegments)
      index = candidates.find((i) =>
        probes.some((probe) => {
          const probed = segments.map((segment, j) => (j === i ? probe : segment)).join('/');
          return matchMount(layer, probed)?.params[name] === probe;
        }),
      );
    if (index === undefined) return undefined;
    placed.add(index);
    segments[index] = written;
  }
  for (const [value, written] of runs) if (!placeRun(segments, placed, value, written)) return undefined;
  if (layer.regexp?.flags.includes('i') === true) asWritten(layer.regexp, segments, placed);
  return segments.filter((segment) => segment !== runTail).join('/');
}

/**
 * Express 4 keeps no pattern as given, only its RegExp, and a mount's RegExp made from a string
 * ends with its look-ahead for the segment's end; a RegExp the app gave as the mount (or as the
 * last of an array's) does not, as a rule.
 */
function writtenAsString(layer: LayerLike): boolean {
  return layer.matchers !== undefined || layer.regexp?.source.endsWith('(?=\\/|$)') === true;
}

/**
 * Writes the segments of `segments` not `placed` (the pattern's own text, matched whatever its case)
 * as the case-insensitive Express 4 RegExp made from the app's pattern has them, in order.
 */
function asWritten(regexp: RegExp, segments: string[], placed: ReadonlySet<number>): void {
  const text = regexp.source.replace(/\\([/.])/g, '$1');
  const lower = text.toLowerCase();
  let from = 0;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (placed.has(i) || segment === '') continue;
    const at = lower.indexOf(`/${segment.toLowerCase()}`, from);
    if (at === -1) continue;
    const end = at + 1 + segment.length;
    if (end < text.length && !'/(?'.includes(text[end]!)) continue;
    segments[i] = text.slice(at + 1, end);
    from = end;
  }
}

/** Marks the segments after the first of a run that {@link placeRun} wrote as one. */
const runTail = '\u0000';

/**
 * Writes `written` in place of the last free run of segments whose values, joined, are `value`
 * (several segments: a wildcard's), and marks the run's other segments {@link runTail}; `false` when
 * there is none.
 */
function placeRun(segments: string[], placed: Set<number>, value: string, written: string): boolean {
  const length = value.split('/').length;
  // From the end: a wildcard ends its pattern, as a rule.
  for (let start = segments.length - length; start >= 0; start--) {
    const run = segments.slice(start, start + length);
    if (run.some((_, i) => placed.has(start + i))) continue;
    if (run.map(decoded).join('/') !== value) continue;
    segments.fill(runTail, start, start + length);
    segments[start] = written;
    for (let i = start; i < start + length; i++) placed.add(i);
    return true;
  }
  return false;
}

/** What `layer` matches at the start of `path`, and the rest, when the match ends at a segment's end. */
export function mountAt(layer: LayerLike, path: string): { match: MountMatch; rest: string } | undefined {
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
export function innersOf(
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
 * The mounts in `stack` (of `owner`'s tree), and in the routers and sub-apps below, that match the
 * start of `path` and lead to a stack that `reached` accepts with the rest of the path, appended to
 * `layers` (as is what `reached` appends); `false` when there are none.
 */
export function findMounts(
  stack: readonly LayerLike[],
  owner: object,
  subApps: SubApps,
  path: string,
  layers: LayerLike[],
  reached: (stack: readonly LayerLike[], rest: string, layers: LayerLike[]) => boolean,
  depth = 0,
): boolean {
  if (reached(stack, path, layers)) return true;
  if (depth >= maxDepth) return false;
  for (const layer of stack) {
    const inners = innersOf(layer, owner, subApps);
    if (inners.length === 0) continue;
    const mount = mountAt(layer, path);
    if (mount === undefined) continue;
    layers.push(layer);
    for (const inner of inners)
      if (findMounts(inner.stack, inner.owner, subApps, mount.rest, layers, reached, depth + 1)) return true;
    layers.pop();
  }
  return false;
}

/** What a chain of mounts makes of a path: its pattern, and whether any mount took a parameter. */
export interface Along {
  /** `undefined` when a mount's pattern cannot be written without the path's own text. */
  readonly pattern: string | undefined;
  readonly params: boolean;
}

/** What `chain` makes of `baseUrl`; `undefined` when its mounts do not match it. */
export function patternAlong(chain: readonly LayerLike[], baseUrl: string): Along | undefined {
  let path = baseUrl;
  let pattern: string | undefined = '';
  let params = false;
  for (const layer of chain) {
    const mount = mountAt(layer, path);
    if (mount === undefined) return undefined;
    if (pattern !== undefined) {
      const own = patternOf(layer, mount.match);
      pattern = own === undefined ? undefined : pattern + own;
    }
    for (const _ in mount.match.params) params = true;
    path = mount.rest;
  }
  return path === '' ? { pattern, params } : undefined;
}

/** The stack of an Express app's router: Express 4's `_router`, Express 5's `router`. */
export function routerStackOf(app: object): readonly LayerLike[] | undefined {
  const express4 = (app as { _router?: unknown })._router;
  if (express4 !== undefined) return stackOf(express4);
  try {
    return stackOf((app as { router?: unknown }).router);
  } catch {
    return undefined; // Express 4 before its first route: `app.router` throws
  }
}
