/**
 * Where an error left a middleware mounted on a path (`app.use('/graphql', middleware)`), or a
 * router or sub-app mounted on one whose own middleware failed before any route matched. Express
 * puts `req.baseUrl` back as the error leaves the mount, so by the time the request is answered
 * nothing says which mount it failed in. Express's router calls each layer's handler through
 * `handle_request` (Express 4) or `handleRequest` (router 2, Express 5) on the layers' prototype,
 * which is wrapped once to note `req.baseUrl` and `req.app` as each layer is entered: an error is
 * passed on by the last layer entered (error handlers are entered another way), so what is noted
 * then is the mount it failed in. The same mount lookup as for a mounted middleware that answers
 * names it from there (`express-mount.ts`), as OpenTelemetry's Express instrumentation names such
 * a request by the mounts it went through.
 *
 * The prototype is Express's, shared by every app of that copy of Express: the wrapper only writes
 * two slots of the kit's on the request, and changes nothing Express does. It reads nothing of the
 * layer and allocates nothing: two loads and two stores per layer, within the noise of callgrind's
 * count of a request through the router (~33,000 instructions on Express 4, ~38,000 on Express 5).
 * A closure around each mounted layer's `next`, noting the error itself, measured 0.5 to 1.5 µs.
 */

import { innersOf, type LayerLike, maxDepth, routerStackOf } from './express-layers.js';

/** Where a request's last layer was entered: its `req.baseUrl` and `req.app` then. */
export interface FailedMount {
  readonly baseUrl: string;
  readonly app: unknown;
}

type HandleRequest = (this: unknown, req: EnteredRequest, res: unknown, next: unknown) => unknown;

const baseUrlSlot = Symbol('apprunner-kit.express.enteredBaseUrl');
const appSlot = Symbol('apprunner-kit.express.enteredApp');

/** What is read and noted of a request as a layer is entered. */
interface EnteredRequest {
  readonly baseUrl?: unknown;
  readonly app?: unknown;
  [baseUrlSlot]?: unknown;
  [appSlot]?: unknown;
}

/** Marks a prototype of layers this copy of the kit has wrapped. */
const wrapped = Symbol('apprunner-kit.express.layerEntry');

/**
 * The mount the last layer a request entered was in, when that was a mount (see
 * {@link watchMountErrors}): where its error came from when it left Express's routers failed.
 */
export function failedMountOf(req: object): FailedMount | undefined {
  const { [baseUrlSlot]: baseUrl, [appSlot]: app } = req as EnteredRequest;
  return typeof baseUrl === 'string' && baseUrl !== '' ? { baseUrl, app } : undefined;
}

/** Wraps the method that calls a layer's handler on `prototype`, once. */
function wrap(prototype: object | null): void {
  if (prototype === null || Object.hasOwn(prototype, wrapped)) return;
  const methods = prototype as Record<string, unknown>;
  const name = typeof methods.handleRequest === 'function' ? 'handleRequest' : 'handle_request';
  const original = methods[name];
  if (typeof original !== 'function') return;
  const handle = original as HandleRequest;
  Object.defineProperty(prototype, wrapped, { value: true });
  methods[name] = function handleRequest(req, res, next) {
    req[baseUrlSlot] = req.baseUrl;
    req[appSlot] = req.app;
    return handle.call(this, req, res, next);
  } satisfies HandleRequest;
}

/**
 * Wraps the layers' prototype (or prototypes, a router of another copy of Express mounted in the
 * app) of `app`'s router tree, so that {@link failedMountOf} tells where an error left a mount;
 * `false` while the app has no router yet (Express 4 makes it with its first layer).
 */
export function watchMountErrors(app: object): boolean {
  const stack = routerStackOf(app);
  if (stack === undefined || stack.length === 0) return false;
  const seen = new Set<object | null>();
  const visit = (layers: readonly LayerLike[], owner: object, depth: number): void => {
    for (const layer of layers) {
      const prototype = Object.getPrototypeOf(layer) as object | null;
      if (!seen.has(prototype)) {
        seen.add(prototype);
        wrap(prototype);
      }
      if (depth < maxDepth)
        for (const inner of innersOf(layer, owner, undefined)) visit(inner.stack, inner.owner, depth + 1);
    }
  };
  visit(stack, app, 0);
  return true;
}
