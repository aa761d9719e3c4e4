import type { FastifyLikeApp, KoaLikeApp, NodeRequestListener, SupportedApp } from '../config/options.js';
import { describeValue } from '../config/parse.js';
import { AdapterUnavailableError, UnsupportedAppError } from '../errors.js';

/** The integration chosen for an app, by its shape. */
export type DetectedApp =
  | { readonly kind: 'node' | 'express'; readonly listener: NodeRequestListener }
  | { readonly kind: 'koa'; readonly listener: NodeRequestListener };

function isFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === 'function';
}

function isKoa(app: object): app is KoaLikeApp {
  const candidate = app as Partial<KoaLikeApp> & { middleware?: unknown };
  return isFunction(candidate.callback) && isFunction(candidate.use) && Array.isArray(candidate.middleware);
}

function isFastify(app: object): app is FastifyLikeApp {
  const candidate = app as Partial<FastifyLikeApp>;
  return isFunction(candidate.register) && isFunction(candidate.addHook) && isFunction(candidate.ready);
}

/**
 * Recognises the app by its shape, never by importing a framework: an Express app is a request
 * listener with `use`, `set` and `handle`; a Koa app has `callback()` and a `middleware` array; a
 * Fastify instance has `register`, `addHook` and `ready`; any other function is a Node listener.
 *
 * @throws UnsupportedAppError (`ARK_APP_UNSUPPORTED`) for anything else.
 * @throws AdapterUnavailableError (`ARK_ADAPTER_UNAVAILABLE`) for Fastify, until its adapter lands.
 */
export function detectApp(app: SupportedApp): DetectedApp {
  if (typeof app === 'function') {
    const fn = app as NodeRequestListener & { use?: unknown; set?: unknown; handle?: unknown };
    const express = isFunction(fn.use) && isFunction(fn.set) && isFunction(fn.handle);
    return { kind: express ? 'express' : 'node', listener: app as NodeRequestListener };
  }
  if (typeof app === 'object' && app !== null) {
    if (isKoa(app)) return { kind: 'koa', listener: app.callback() };
    if (isFastify(app)) {
      throw new AdapterUnavailableError(
        'Fastify apps are not supported by this version of apprunner-kit yet. Until the Fastify adapter ' +
          'ships, keep your own fastify.listen() and wire shutdown with runtime.onShutdown().',
      );
    }
  }
  throw new UnsupportedAppError(
    `bootstrapAppRunner({ app }) received ${describeValue(app)}, which is not an Express app, a Koa app, ` +
      'a Fastify instance or a Node.js request listener (req, res) => void. Pass one of those, or omit ' +
      '`app` and wire the runtime yourself.',
  );
}
