import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeRequestListener } from '../config/options.js';
import { handleHealthRequest } from '../health/endpoints.js';
import type { RequestScope } from '../http/request-scope.js';
import type { LifecycleState } from '../lifecycle/state.js';

/**
 * Puts the kit in front of a Node request listener: health endpoints first (outside the request
 * scope, so they are never logged per request nor counted in flight), then the request scope around
 * the app's handler. Because it sits in front, no route of the app can hide the health paths.
 */
export function createNodeRequestListener(
  listener: NodeRequestListener,
  scope: RequestScope,
  state: () => LifecycleState,
): NodeRequestListener {
  return function apprunnerKitListener(req: IncomingMessage, res: ServerResponse): void {
    if (handleHealthRequest(req, res, state)) return;
    scope.run(req, res, () => listener(req, res));
  };
}
