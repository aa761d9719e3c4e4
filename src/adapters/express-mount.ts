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

/** The mounts from the app's router to a middleware, and their path when none has a parameter. */
interface Chain {
  readonly layers: readonly LayerLike[];
  readonly literal: string | undefined;
}

/** Chains kept (one per mount of a middleware that answered, as a rule a few). */
const maxChains = 16;
/**
 * Searches that found nothing after which no more is done: a mount reached through a function of the
 * app's (`app.use('/t/:tenant', (req, res, next) => tenants(req, res, next))`) is not in the tree, and
 * each request would walk it in vain. Its requests keep no route.
 */
const maxMisses = 64;

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
  const chains: Chain[] = [];
  const subApps = new SubApps();
  let misses = 0;
  return (baseUrl, requestApp) => {
    for (const chain of chains) if (chain.literal === baseUrl) return baseUrl;
    for (const chain of chains) {
      const pattern = patternAlong(chain.layers, baseUrl);
      if (pattern !== undefined) return pattern;
    }
    const stack = misses < maxMisses ? routerStackOf(app) : undefined;
    if (stack === undefined) return undefined;
    subApps.learn(app, requestApp);
    const layers: LayerLike[] = [];
    const pattern = findMounts(stack, app, subApps, baseUrl, layers, mountedOn)
      ? patternAlong(layers, baseUrl)
      : undefined;
    if (pattern === undefined) {
      misses++;
      return undefined;
    }
    if (chains.length >= maxChains) chains.shift();
    chains.push({ layers, literal: pattern === baseUrl ? baseUrl : undefined });
    return pattern;
  };
}
