import { FastifyBootingError } from '../errors.js';
import { symbolSlot } from '../internal/symbol-slot.js';

/**
 * True when `fastify` is an encapsulated child: the instance a plugin receives (Fastify makes it with
 * `Object.create(parent)`). Fastify keeps its boot state on the root only (under a symbol it does not
 * export), so a child has it on a prototype, not as its own. A version that keeps it otherwise has it
 * nowhere: then nothing is concluded.
 */
function isEncapsulatedChild(fastify: object): boolean {
  if (symbolSlot(fastify, 'fastify.state') !== undefined) return false;
  for (let up = Object.getPrototypeOf(fastify) as object | null; up !== null; up = Object.getPrototypeOf(up))
    if (symbolSlot(up, 'fastify.state') !== undefined) return true;
  return false;
}

/** The codes a boot ends with when a plugin took longer than Fastify's `pluginTimeout`: Fastify's, avvio's. */
const pluginTimeoutCodes: ReadonlySet<unknown> = new Set([
  'FST_ERR_PLUGIN_TIMEOUT',
  'AVV_ERR_PLUGIN_EXEC_TIMEOUT',
]);

const fix =
  'Call bootstrapAppRunner({ app }) on the root instance, outside any plugin, in place of fastify.listen(): ' +
  'with fastify-cli, run `fastify eject` (or write a server.js) and replace its closeWithGrace(…) and ' +
  'app.listen(…) with `await bootstrapAppRunner({ app })` (docs/getting-started.md, "fastify-cli").';

/**
 * Throws when `fastify` is an encapsulated child: the `fastify` a plugin receives (fastify-cli's
 * `app.js` is such a plugin). The kit listens after `fastify.ready()`, which waits for that plugin, and
 * so for itself, until Fastify's `pluginTimeout` (10 s) ends the start with
 * `FST_ERR_PLUGIN_TIMEOUT`. Reads two slots once per bootstrap. The root itself, awaited inside a
 * plugin that `fastify-plugin` wraps, cannot be told from a root whose `ready()` waits on a slow plugin:
 * that wait ends at the timeout, which {@link explainBootTimeout} then explains.
 *
 * @throws FastifyBootingError (`ARK_FASTIFY_BOOTING`)
 */
export function assertNotBooting(fastify: object): void {
  if (!isEncapsulatedChild(fastify)) return;
  throw new FastifyBootingError(
    "bootstrapAppRunner({ app }) received the encapsulated instance a Fastify plugin receives (fastify-cli's " +
      'app.js is such a plugin): Fastify is ready only once that plugin returns, and the kit listens after ' +
      `ready(), so it would wait for itself until Fastify's pluginTimeout. ${fix}`,
  );
}

/**
 * `error`, the rejection of `fastify.ready()` the kit awaited, as a {@link FastifyBootingError} when it
 * is the plugin timeout (Fastify's message names the plugin), with the likely cause: the kit awaited
 * inside that plugin; any other error as it is.
 */
export function explainBootTimeout(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (!pluginTimeoutCodes.has(code)) return error;
  return new FastifyBootingError(
    `Fastify's ready() ended with ${String(code)} (${(error as Error).message}). When bootstrapAppRunner({ app }) ` +
      'is awaited inside that plugin (one wrapped by fastify-plugin gets the root itself), it waits for ' +
      `itself. ${fix}`,
    { cause: error },
  );
}
