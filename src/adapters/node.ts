import type { NodeRequestListener } from '../config/options.js';
import { type AppAdapter, inFront } from './adapter.js';

/**
 * A plain Node.js request listener `(req, res) => void`: the kit's health endpoints and request
 * scope go in front of it, on a server the kit owns.
 */
export const nodeAdapter: AppAdapter<NodeRequestListener> = {
  name: 'node',
  matches: (app): app is NodeRequestListener => typeof app === 'function',
  install: (app, kit) => ({ kind: 'node', listener: inFront(kit, app) }),
};
