import { createRequire } from 'node:module';
import type { RouteLike } from '../../src/adapters/express-route.js';

// Express 4 is the devDependency alias `express4`; both are CommonJS.
const require = createRequire(import.meta.url);

/** A middleware or a route handler, as the route lookups see one. */
export type Handler = (...args: unknown[]) => void;

/** What the route lookup tests use of an Express router (or app). */
export interface RouterLike {
  use(...args: unknown[]): unknown;
  get(path: string, handler: Handler): unknown;
  stack: { route?: RouteLike & { path: string } }[];
}

/** What the route lookup tests use of Express's module. */
export interface ExpressLike {
  (): RouterLike;
  Router(): RouterLike;
}

/** Express 5 and Express 4, by name, for `describe.each`. */
export const expressLines: [string, ExpressLike][] = [
  ['Express 5', require('express') as ExpressLike],
  ['Express 4', require('express4') as ExpressLike],
];
