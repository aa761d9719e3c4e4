/**
 * `apprunner-kit/nest`: NestJS applications on Nest's Express or Fastify platform.
 * `bootstrapAppRunner({ app })` picks the adapter for a Nest app by itself; import `nestLogger` from
 * here to make the kit's logger Nest's (`app.useLogger(nestLogger())`).
 */
import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { NodeRequestListener } from '../config/options.js';
import { describeValue } from '../config/parse.js';
import { UnsupportedAppError } from '../errors.js';
import { nestLoggerTarget } from '../logging/nest-logger.js';
import { type AnyAppAdapter, type AppAdapter, isFunction } from './adapter.js';
import { expressAdapter } from './express.js';
import { fastifyAdapter } from './fastify.js';
import { type NestSignalState, takeShutdownHooks } from './nest-signals.js';
import { standInFront } from './stand-in-front.js';

export { getRequestContext, type RequestContext, type RequestFieldValue } from '../http/context.js';
export { reportRequestError } from '../http/request-errors.js';
export { addRequestFields } from '../http/request-fields.js';
export { setRequestRoute } from '../http/request-route.js';
export { flushRequestLogs } from '../logging/held-lines.js';
export { type CreateLoggerOptions, createLogger } from '../logging/logger.js';
export { type NestLoggerService, nestLogger } from '../logging/nest-logger.js';

/** What the kit needs of a Nest application (`INestApplication`, typed loosely so that any fits). */
export interface NestLikeApp {
  getHttpAdapter: (...args: never[]) => unknown;
  getHttpServer: (...args: never[]) => unknown;
  init: (...args: never[]) => unknown;
  close: (...args: never[]) => unknown;
}

interface NestApp extends NestSignalState {
  getHttpAdapter(): { getInstance?(): unknown; getType?(): unknown } | undefined;
  getHttpServer(): { readonly listening?: unknown } | undefined;
  init(): Promise<unknown>;
  close(): Promise<unknown>;
  /** Nest's logger of the application, whose `localInstance` is the logger `useLogger` gave. */
  readonly logger?: { readonly localInstance?: unknown };
}

/**
 * True for an object with the shape of a Nest application context (`NestFactory.create`,
 * `createApplicationContext`, `createMicroservice`): the kit then names Nest in its error when it
 * cannot serve it.
 */
export function looksLikeNest(app: unknown): boolean {
  const nest = app as Record<string, unknown> | null;
  return (
    typeof nest === 'object' &&
    nest !== null &&
    isFunction(nest.init) &&
    isFunction(nest.close) &&
    isFunction(nest.enableShutdownHooks) &&
    isFunction(nest.useLogger) &&
    isFunction(nest.get)
  );
}

/**
 * Serves `listener` (the kit in front of Nest's Express app) on the server Nest built around that
 * app, in its place: Nest's WebSocket gateways listen for upgrades there, and `app.getHttpServer()`
 * is the server that listens (with Nest's `httpsOptions` when given). Returns that server and the
 * function that puts Nest's handler back; `undefined` when Nest's server is not there, or has no
 * single handler to stand in front of (the kit then serves on a server of its own).
 */
function onNestServer(
  app: NestApp,
  express: unknown,
  listener: NodeRequestListener,
): { server: Server; putBack: () => void } | undefined {
  const server: unknown = app.getHttpServer();
  // Of node:http, or node:https with Nest's httpsOptions (both are servers of node:net).
  if (!(server instanceof NetServer) || !('setTimeout' in server)) return undefined;
  const putBack = standInFront(server as Server, express, () => listener);
  return putBack === undefined ? undefined : { server: server as Server, putBack };
}

/** The Express app or Fastify instance of Nest's platform, with the kit's adapter for it. */
function platformOf(app: NestApp): { instance: unknown; adapter: AnyAppAdapter } {
  const http = app.getHttpAdapter();
  const instance = isFunction(http?.getInstance) ? http.getInstance() : undefined;
  if (fastifyAdapter.matches(instance)) return { instance, adapter: fastifyAdapter };
  if (expressAdapter.matches(instance)) return { instance, adapter: expressAdapter };
  const type = isFunction(http?.getType) ? String(http.getType()) : describeValue(instance);
  throw new UnsupportedAppError(
    `bootstrapAppRunner({ app }) received a NestJS application on the ${type} platform: the kit serves Nest on ` +
      'its Express platform (@nestjs/platform-express, the default) and its Fastify platform (@nestjs/platform-fastify).',
  );
}

/**
 * The Nest adapter: Nest's Express app or Fastify instance served through the kit's Express or
 * Fastify adapter, on the kit's server. Before listening the kit runs `app.init()` (which Nest's
 * `app.listen()` would have: it registers the routes; a second call does nothing), and it takes the
 * signal listeners of `app.enableShutdownHooks()` out of the way; on shutdown, once the requests are
 * drained, it runs `app.close()`: Nest's `onModuleDestroy`, `beforeApplicationShutdown` and
 * `onApplicationShutdown` hooks, and on Fastify `fastify.close()`, bounded by `shutdown.hookTimeoutMs`
 * (5 s by default), as a hook is.
 */
export const nestAdapter: AppAdapter<NestLikeApp> = {
  name: 'nest',
  matches: (app): app is NestLikeApp =>
    typeof app === 'object' &&
    app !== null &&
    isFunction((app as Partial<NestLikeApp>).getHttpAdapter) &&
    isFunction((app as Partial<NestLikeApp>).getHttpServer) &&
    isFunction((app as Partial<NestLikeApp>).init) &&
    isFunction((app as Partial<NestLikeApp>).close),
  // The logger `app.useLogger(nestLogger())` gave Nest, else the platform's (Fastify's loggerInstance).
  loggerOf: (nest) => {
    const app = nest as unknown as NestApp;
    try {
      const given = (app.logger?.localInstance as { [nestLoggerTarget]?: unknown } | undefined)?.[
        nestLoggerTarget
      ];
      if (given !== undefined) return given;
      const { instance, adapter } = platformOf(app);
      return adapter.loggerOf?.(instance as never);
    } catch {
      return undefined; // the install says what is wrong with the app
    }
  },
  install: (nest, kit) => {
    const app = nest as unknown as NestApp;
    if (app.getHttpServer()?.listening === true) {
      throw new UnsupportedAppError(
        'bootstrapAppRunner({ app }) received a NestJS application that already listens: remove your own ' +
          'await app.listen(...) (the kit listens on PORT, and runs app.init() itself).',
      );
    }
    const { instance, adapter } = platformOf(app);
    const installed = adapter.install(instance as never, kit);
    const nestServer =
      installed.listener === undefined ? undefined : onNestServer(app, instance, installed.listener);
    const server = installed.server ?? nestServer?.server;
    const putBackHooks = takeShutdownHooks(app, kit.shutdownSignals, kit.logger);
    const putBack = (): void => {
      putBackHooks();
      nestServer?.putBack();
    };
    return {
      kind: 'nest',
      ...(server !== undefined || installed.listener === undefined ? {} : { listener: installed.listener }),
      ...(server === undefined ? {} : { server }),
      ...(installed.routeOf === undefined ? {} : { routeOf: installed.routeOf }),
      ready: async () => {
        await app.init();
        await installed.ready?.();
      },
      // Nest's close closes the platform too (`fastify.close()`), after its destroy hooks, as on its own.
      afterDrain: async () => {
        await app.close();
      },
      uninstall: () => {
        putBack();
        installed.uninstall?.();
      },
    };
  },
};
