import { FastifyBootingError } from '../errors.js';
import { symbolSlot } from '../internal/symbol-slot.js';

/** What the check reads of a Fastify instance: its documented `printPlugins()`. */
interface PrintsPlugins {
  printPlugins?: unknown;
}

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

/** `├── name -1 ms`: avvio's tree prints a plugin that started loading and has not finished with -1. */
const loadingLine = /^[│├└─┬ ]*(.+) -1 ms$/;

/**
 * The name of the innermost plugin of the root that is loading now, from avvio's tree of plugins
 * (`fastify.printPlugins()`, whose first line is the root, loading until the boot ends); `undefined`
 * when none is. Before the boot and after each `await fastify.register(…)`, every plugin listed has its
 * time: only a call from inside a plugin (one wrapped by `fastify-plugin`, which gets the root itself)
 * sees one still loading.
 */
function loadingPlugin(fastify: PrintsPlugins): string | undefined {
  if (typeof fastify.printPlugins !== 'function') return undefined;
  let tree: unknown;
  try {
    tree = fastify.printPlugins();
  } catch {
    return undefined; // a version that prints otherwise: nothing concluded, the install goes on
  }
  if (typeof tree !== 'string') return undefined;
  const lines = tree.split('\n');
  for (let i = lines.length - 1; i > 0; i--) {
    const name = loadingLine.exec(lines[i]!)?.[1];
    if (name !== undefined) return name;
  }
  return undefined;
}

/**
 * Throws when `fastify` is booting with the caller inside one of its plugins: an encapsulated child (the
 * `fastify` of a plugin, fastify-cli's `app.js` among them), or the root while a plugin loads. The kit
 * listens after `fastify.ready()`, which would wait for that plugin, and so for itself, until Fastify's
 * `pluginTimeout` (10 s) ends the start with `AVV_ERR_PLUGIN_EXEC_TIMEOUT`. Reads two slots once per
 * bootstrap; the tree only of a root.
 *
 * @throws FastifyBootingError (`ARK_FASTIFY_BOOTING`)
 */
export function assertNotBooting(fastify: object): void {
  const child = isEncapsulatedChild(fastify);
  const plugin = child ? undefined : loadingPlugin(fastify as PrintsPlugins);
  if (!child && plugin === undefined) return;
  const where = child
    ? 'the encapsulated instance a Fastify plugin receives'
    : `the Fastify instance while its plugin "${plugin}" is loading`;
  throw new FastifyBootingError(
    `bootstrapAppRunner({ app }) received ${where} (fastify-cli's app.js is such a plugin): Fastify is ready ` +
      'only once that plugin returns, and the kit listens after ready(), so it would wait for itself until ' +
      "Fastify's pluginTimeout. Call bootstrapAppRunner({ app }) on the root instance, outside any plugin, in " +
      'place of fastify.listen(): with fastify-cli, run `fastify eject` (or write a server.js) and replace its ' +
      'closeWithGrace(…) and app.listen(…) with `await bootstrapAppRunner({ app })` (docs/getting-started.md, ' +
      '"fastify-cli").',
  );
}
