/**
 * The route of a request that a middleware mounted on a path answered, with no route of its own: a
 * GraphQL server as Apollo Server's and GraphQL Yoga's docs mount it (`app.use('/graphql',
 * middleware)`), `express.static`, a proxy. Express gives the path the mounts matched (`req.baseUrl`:
 * `/t/acme/graphql`), which may hold ids: the route is their pattern as the app wrote it
 * (`/t/:tenant/graphql`), found again in the app's router tree as for a route (`express-route.ts`),
 * never the path itself.
 */

import { findMounts, type LayerLike, mountAt, patternAlong, routerStackOf } from './express-layers.js';
import { SubApps } from './express-sub-apps.js';

/**
 * Mounts with no parameter whose pattern is kept, by the path they matched (`/graphql`, a login
 * check's 401 in each of 100 routers, `express.static` on many paths): the least recently used is
 * let go past this. Each is the app's, but a case-insensitive mount is matched in every case.
 */
const maxFixed = 1000;
/**
 * Chains of mounts with a parameter kept (`/t/:tenant/graphql`): each is matched again against the
 * request's path, so they are few; the oldest is let go past this.
 */
const maxChains = 16;
/**
 * Searches that found nothing, for paths that begin with the same segment, after which those paths
 * are looked for once in this many requests only: a mount reached through a function of the app's
 * (`app.use('/t/:tenant', (req, res, next) => tenants(req, res, next))`) is not in the tree, and each
 * request would walk it in vain. The requests not looked for keep no route; the one that is finds a
 * mount of the tree under that segment still (one a client's misses would otherwise hide for good),
 * and a mount found clears the segment's count.
 */
const maxMisses = 64;
/** First segments whose misses are counted; the oldest is let go past this. */
const maxMissKeys = 1000;

/**
 * Whether a layer of `stack` other than a route's (a route's request has `req.route`) is mounted on
 * all of `path`, appended to `layers` then: the middleware that answered, or a router or sub-app
 * above it (its pattern is the same).
 */
function mountedOn(stack: readonly LayerLike[], path: string, layers: LayerLike[]): boolean {
  if (path === '') return false;
  for (const layer of stack) {
    if (layer.route !== undefined || mountAt(layer, path)?.rest !== '') continue;
    layers.push(layer);
    return true;
  }
  return false;
}

/**
 * The pattern of the mounts that matched `baseUrl` (a request's `req.baseUrl`, not empty) in `app`'s
 * router tree as it is at the time, sub-apps included (`requestApp`: `req.app`); `undefined` when no
 * mount of the tree matches it.
 *
 * @example
 * ```ts
 * // app.use('/t/:tenant/graphql', graphqlMiddleware)
 * expressMountResolver(app)('/t/acme/graphql'); // '/t/:tenant/graphql'
 * ```
 */
export function expressMountResolver(
  app: object,
): (baseUrl: string, requestApp?: unknown) => string | undefined {
  const fixed = new Map<string, string>();
  const chains: (readonly LayerLike[])[] = [];
  const subApps = new SubApps();
  const misses = new Map<string, number>();
  return (baseUrl, requestApp) => {
    const known = fixed.get(baseUrl);
    if (known !== undefined) {
      if (fixed.size > maxFixed / 2) {
        // Used again: the last to let go. Not needed while the map is far from full.
        fixed.delete(baseUrl);
        fixed.set(baseUrl, known);
      }
      return known;
    }
    for (const chain of chains) {
      const along = patternAlong(chain, baseUrl);
      if (along !== undefined) return along.pattern;
    }
    const missKey = firstSegment(baseUrl);
    const missed = misses.get(missKey) ?? 0;
    if (missed >= maxMisses && missed % maxMisses !== 0) {
      misses.set(missKey, missed + 1);
      return undefined;
    }
    const stack = routerStackOf(app);
    if (stack === undefined) return undefined;
    subApps.learn(app, requestApp);
    const layers: LayerLike[] = [];
    const along = findMounts(stack, app, subApps, baseUrl, layers, mountedOn)
      ? patternAlong(layers, baseUrl)
      : undefined;
    if (along === undefined) {
      if (missed === 0 && misses.size >= maxMissKeys) misses.delete(misses.keys().next().value!);
      misses.set(missKey, missed + 1);
      return undefined;
    }
    if (missed !== 0) misses.delete(missKey);
    if (!along.params && along.pattern !== undefined) {
      if (fixed.size >= maxFixed) fixed.delete(fixed.keys().next().value!);
      fixed.set(baseUrl, along.pattern);
    } else {
      if (chains.length >= maxChains) chains.shift();
      chains.push(layers);
    }
    return along.pattern;
  };
}

/** The first segment of `path` (`/t` of `/t/acme/graphql`), in lower case as Express matches it. */
function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return (end === -1 ? path : path.slice(0, end)).toLowerCase();
}
