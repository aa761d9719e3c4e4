import { Server as NetServer } from 'node:net';
import { describeValue } from '../config/parse.js';
import { UnsupportedAppError } from '../errors.js';
import type { AnyAppAdapter } from './adapter.js';
import { expressAdapter } from './express.js';
import { fastifyAdapter } from './fastify.js';
import { koaAdapter } from './koa.js';
import { looksLikeNest, nestAdapter } from './nest.js';
import { nodeAdapter } from './node.js';

/** The adapters `bootstrapAppRunner({ app })` tries, most specific first. */
export const adapters: readonly AnyAppAdapter[] = [
  nestAdapter,
  fastifyAdapter,
  koaAdapter,
  expressAdapter,
  nodeAdapter,
];

/**
 * The adapters whose apps the kit serves on a server it creates (not the framework's own, as
 * Fastify's and NestJS's): that server exists before the app is installed, as `runtime.server` in
 * `beforeListen`.
 */
export const kitServerAdapters: ReadonlySet<AnyAppAdapter> = new Set([
  koaAdapter,
  expressAdapter,
  nodeAdapter,
]);

/**
 * The adapter for `app`: `explicit` when given (it must match), else the first whose shape `app`
 * has. Recognises apps by shape only: no framework is imported.
 *
 * @throws UnsupportedAppError (`ARK_APP_UNSUPPORTED`)
 * @throws FastifyBootingError (`ARK_FASTIFY_BOOTING`), a Fastify instance from inside its own plugin
 */
export function selectAdapter(app: unknown, explicit?: AnyAppAdapter): AnyAppAdapter {
  const selected = findAdapter(app, explicit);
  selected.assertInstallable?.(app as never);
  return selected;
}

function findAdapter(app: unknown, explicit: AnyAppAdapter | undefined): AnyAppAdapter {
  if (explicit !== undefined) {
    if (!explicit.matches(app)) {
      throw new UnsupportedAppError(
        `bootstrapAppRunner({ adapter: ${explicit.name}Adapter }) received ${describeValue(app)}, which is not a ${explicit.name} app.`,
      );
    }
    return explicit;
  }
  const found = adapters.find((adapter) => adapter.matches(app));
  if (found === undefined && looksLikeNest(app)) {
    throw new UnsupportedAppError(
      'bootstrapAppRunner({ app }) received a NestJS application context or microservice, which has no HTTP ' +
        'server (no getHttpAdapter()): pass the application of NestFactory.create(AppModule). For a microservice ' +
        'or a worker, omit `app`: bootstrapAppRunner() then handles the signals and logs, and ' +
        "runtime.onShutdown('nest', () => app.close()) runs Nest's lifecycle hooks on shutdown.",
    );
  }
  if (found === undefined && app instanceof NetServer) {
    throw new UnsupportedAppError(
      'bootstrapAppRunner({ app }) received a server (of node:http, node:https or node:http2), not an app: pass the app it ' +
        'serves (the Express app, the Koa app, the listener given to createServer) and delete its listen(): the ' +
        'kit creates the server and listens, and runtime.server is that server, for Socket.IO or ws (attach ' +
        'them in beforeListen or once bootstrapAppRunner resolves). To keep a server of your own, omit `app`, ' +
        'create it with http.createServer(runtime.createRequestListener(app)), call runtime.manageServer(server) ' +
        'and listen yourself.',
    );
  }
  if (found === undefined) {
    throw new UnsupportedAppError(
      `bootstrapAppRunner({ app }) received ${describeValue(app)}, which is not an Express app, a Koa app, ` +
        'a Fastify instance, a NestJS application (NestFactory.create) or a Node.js request listener (req, res) => void. Pass one of those, or omit ' +
        '`app` and wire the runtime yourself.',
    );
  }
  return found;
}
