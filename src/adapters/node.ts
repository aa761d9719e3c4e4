import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeRequestListener } from '../config/options.js';
import type { HealthEndpoints } from '../health/endpoints.js';
import type { RequestScope } from '../http/request-scope.js';

/**
 * Puts the kit in front of a Node request listener: health endpoints first (outside the request
 * scope, so they are never logged per request nor counted in flight), then the request scope around
 * the app's handler. Because it sits in front, no route of the app can hide the health paths.
 * With `logHealthRequests`, health requests enter the scope too, and so get their request line.
 */
export function createNodeRequestListener(
  listener: NodeRequestListener,
  scope: RequestScope,
  health: HealthEndpoints,
  logHealthRequests = false,
): NodeRequestListener {
  if (logHealthRequests) {
    return function apprunnerKitListener(req: IncomingMessage, res: ServerResponse): void {
      scope.run(req, res, () => {
        if (!health.handle(req, res)) listener(req, res);
      });
    };
  }
  return function apprunnerKitListener(req: IncomingMessage, res: ServerResponse): void {
    if (health.handle(req, res)) return;
    scope.run(req, res, () => listener(req, res));
  };
}
