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
 * The adapter for `app`: `explicit` when given (it must match), else the first whose shape `app`
 * has. Recognises apps by shape only: no framework is imported.
 *
 * @throws UnsupportedAppError (`ARK_APP_UNSUPPORTED`)
 */
export function selectAdapter(app: unknown, explicit?: AnyAppAdapter): AnyAppAdapter {
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
  if (found === undefined) {
    throw new UnsupportedAppError(
      `bootstrapAppRunner({ app }) received ${describeValue(app)}, which is not an Express app, a Koa app, ` +
        'a Fastify instance, a NestJS application (NestFactory.create) or a Node.js request listener (req, res) => void. Pass one of those, or omit ' +
        '`app` and wire the runtime yourself.',
    );
  }
  return found;
}
