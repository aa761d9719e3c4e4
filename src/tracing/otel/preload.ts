// A namespace: a named import of `registerHooks`, missing before Node.js 22.15, would fail to link.
import * as nodeModule from 'node:module';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import {
  appDirectories,
  type DatastoreClient,
  datastoreClients,
  type InstrumentationRegistry,
  instrumentationRegistry,
  packagePathPattern,
  type RegisteredInstrumentation,
  requireFrom,
} from './instrumentations.js';

type NodeRequire = NodeJS.Require;

interface InstrumentationLibrary {
  registerInstrumentations(options: { instrumentations: unknown[] }): () => void;
}

type InstrumentationClass = new (config: Record<string, unknown>) => RegisteredInstrumentation;

/** Builds the instrumentation of `client` from its package, resolved where the app resolves it. */
function createInstrumentation(
  client: DatastoreClient,
  dirs: readonly string[],
  registry: InstrumentationRegistry,
): { instrumentation: RegisteredInstrumentation; require: NodeRequire } | undefined {
  if (client.packages.every((name) => requireFrom(dirs, name) === undefined)) {
    registry.skipped.push({ client: client.name, reason: 'client not installed' });
    return undefined;
  }
  const require = requireFrom(dirs, client.instrumentation.package);
  if (require === undefined) {
    registry.skipped.push({ client: client.name, reason: 'instrumentation not installed' });
    return undefined;
  }
  try {
    const exports = require(client.instrumentation.package) as Record<string, InstrumentationClass>;
    const Instrumentation = exports[client.instrumentation.className];
    if (typeof Instrumentation !== 'function') {
      throw new TypeError(`${client.instrumentation.package} exports no ${client.instrumentation.className}`);
    }
    // Only spans inside a trace: a readiness probe's `SELECT 1` must not start a trace of its own.
    const config = client.requireParentSpan ? { requireParentSpan: true } : {};
    // Resolve `@opentelemetry/instrumentation` from the instrumentation package itself: its copy.
    const own = createRequire(require.resolve(client.instrumentation.package));
    return { instrumentation: new Instrumentation(config), require: own };
  } catch (error) {
    registry.skipped.push({
      client: client.name,
      reason: 'failed',
      detail: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
}

/** import-in-the-middle's in-thread registration (`register-hooks.mjs`, 3.6 and later). */
interface SyncHookRegistration {
  register(options: { include: RegExp[] }): void;
}

/**
 * import-in-the-middle's in-thread registration, from `hookRequire`'s copy, where the running Node.js
 * has `module.registerHooks` and runs import-in-the-middle's hooks correctly on it (its own
 * `supportsSyncHooks`: 22.22.3, 24.11.1, 26 and later); else `undefined`. A Node.js without
 * `module.registerHooks` loads nothing of it.
 */
function syncHookRegistration(hookRequire: NodeRequire): SyncHookRegistration | undefined {
  if (typeof nodeModule.registerHooks !== 'function') return undefined;
  try {
    const { supportsSyncHooks } = hookRequire('import-in-the-middle/supports-sync-hooks.mjs') as {
      supportsSyncHooks(): boolean;
    };
    if (!supportsSyncHooks()) return undefined;
    return hookRequire('import-in-the-middle/register-hooks.mjs') as SyncHookRegistration;
  } catch {
    // An import-in-the-middle before 3.6, without them.
    return undefined;
  }
}

/**
 * Registers import-in-the-middle's loader hook, the one `@opentelemetry/instrumentation/hook.mjs`
 * re-exports, so that `import pg from 'pg'` in an ESM app reaches the instrumentations as `require`
 * does through require-in-the-middle. `include` keeps it from wrapping any module but the
 * instrumented clients' (it would wrap every module otherwise). In-thread with
 * `module.registerHooks` where that works, because Node.js 26 deprecates `module.register` (DEP0205,
 * a warning at every start); else on Node.js's loader thread with `module.register`. The hook must
 * be the one of the import-in-the-middle copy `@opentelemetry/instrumentation` uses: its wrappers
 * report to that copy's module-local registry.
 */
function registerEsmHook(require: NodeRequire, clients: readonly DatastoreClient[]): void {
  const hook = require.resolve('@opentelemetry/instrumentation/hook.mjs');
  const include = [packagePathPattern(clients.flatMap((client) => client.packages))];
  const sync = syncHookRegistration(createRequire(hook));
  if (sync !== undefined) sync.register({ include });
  else nodeModule.register(pathToFileURL(hook).href, { data: { include } });
}

/**
 * The work of `apprunner-kit/register`: builds the OpenTelemetry instrumentation of each datastore
 * client installed beside the app (pg, mysql2, ioredis, redis) whose instrumentation package is
 * installed too, registers them with `registerInstrumentations` (bootstrap hands them the kit's
 * tracer provider, see `useTracerProvider`), and, for the ESM build (`format` `esm`, `--import`), the
 * loader hook ESM imports need. Records what it did in the process-wide registry that bootstrap
 * reports on its tracing start-up line. Never throws: a preload that fails must not stop the app.
 * A second run (both builds preloaded) does nothing.
 */
export function preloadInstrumentations(
  format: 'esm' | 'cjs',
  dirs: readonly string[] = appDirectories(),
): InstrumentationRegistry {
  const registry = instrumentationRegistry();
  if (registry.preload !== undefined) return registry;
  registry.preload = format;
  const created: {
    client: DatastoreClient;
    instrumentation: RegisteredInstrumentation;
    require: NodeRequire;
  }[] = [];
  for (const client of datastoreClients) {
    const made = createInstrumentation(client, dirs, registry);
    if (made !== undefined) created.push({ client, ...made });
  }
  if (created.length === 0) return registry;
  // The instrumentation packages' `@opentelemetry/instrumentation` (one copy when they are of one
  // line, as npm installs them): the copy whose hooks they registered.
  const { require } = created[0]!;
  try {
    if (format === 'esm') {
      try {
        registerEsmHook(
          require,
          created.map((entry) => entry.client),
        );
        registry.esmHook = true;
      } catch (error) {
        registry.esmHookError = error instanceof Error ? error.message : String(error);
      }
    }
    const library = require('@opentelemetry/instrumentation') as InstrumentationLibrary;
    library.registerInstrumentations({ instrumentations: created.map((entry) => entry.instrumentation) });
    for (const { client, instrumentation } of created) {
      registry.registered.push({ client: client.name, instrumentation });
    }
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    for (const { client } of created)
      registry.skipped.push({ client: client.name, reason: 'failed', detail });
  }
  return registry;
}
