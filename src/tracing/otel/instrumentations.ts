import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { processGlobal } from '../../internal/process-global.js';

/** A datastore or cache client whose calls OpenTelemetry's instrumentation packages turn into spans. */
export interface DatastoreClient {
  /** The short name the log lines use: `pg`, `ioredis`, `redis`, `mysql2`. */
  readonly name: string;
  /** The npm packages that mean the client is in use (the first is the one users install). */
  readonly packages: readonly string[];
  /** The OpenTelemetry instrumentation package and the class it exports. */
  readonly instrumentation: { readonly package: string; readonly className: string };
  /** Whether the instrumentation takes `requireParentSpan` (mysql2's does not). */
  readonly requireParentSpan: boolean;
}

/**
 * The clients the preload instruments, in the order the log lines name them. `packages` lists what
 * each instrumentation patches (redis 4+ is `@redis/client` under the `redis` package).
 */
export const datastoreClients: readonly DatastoreClient[] = [
  {
    name: 'pg',
    packages: ['pg', 'pg-pool'],
    instrumentation: { package: '@opentelemetry/instrumentation-pg', className: 'PgInstrumentation' },
    requireParentSpan: true,
  },
  {
    name: 'mysql2',
    packages: ['mysql2'],
    instrumentation: { package: '@opentelemetry/instrumentation-mysql2', className: 'MySQL2Instrumentation' },
    requireParentSpan: false,
  },
  {
    name: 'ioredis',
    packages: ['ioredis'],
    instrumentation: {
      package: '@opentelemetry/instrumentation-ioredis',
      className: 'IORedisInstrumentation',
    },
    requireParentSpan: true,
  },
  {
    name: 'redis',
    packages: ['redis', '@redis/client', '@node-redis/client'],
    instrumentation: { package: '@opentelemetry/instrumentation-redis', className: 'RedisInstrumentation' },
    requireParentSpan: true,
  },
];

/** What an OpenTelemetry instrumentation offers the kit once registered. */
export interface RegisteredInstrumentation {
  enable(): void;
  disable(): void;
  setTracerProvider(provider: unknown): void;
}

/** Why the preload left a client uninstrumented. */
export type SkipReason = 'client not installed' | 'instrumentation not installed' | 'failed';

/** What `apprunner-kit/register` did, for the kit to report and control at bootstrap. */
export interface InstrumentationRegistry {
  /** Which build of the preload ran; `undefined` when none did. */
  preload: 'esm' | 'cjs' | undefined;
  /** Whether the ESM loader hook (import-in-the-middle) is registered. */
  esmHook: boolean;
  /** Why the ESM build of the preload could not register that hook. */
  esmHookError?: string;
  readonly registered: { readonly client: string; readonly instrumentation: RegisteredInstrumentation }[];
  readonly skipped: { readonly client: string; readonly reason: SkipReason; readonly detail?: string }[];
}

/**
 * The one registry of the process. The preload (its ESM or its CJS build, bundled apart from the
 * kit) fills it in, and whichever build of the kit bootstraps reads it: `Symbol.for` joins them.
 */
export function instrumentationRegistry(): InstrumentationRegistry {
  return processGlobal<InstrumentationRegistry>('instrumentations.v1', () => ({
    preload: undefined,
    esmHook: false,
    registered: [],
    skipped: [],
  }));
}

/** Calls `fn` on each instrumentation the preload registered; returns what it threw, never throws. */
export function forEachInstrumentation(fn: (instrumentation: RegisteredInstrumentation) => void): unknown[] {
  const failed: unknown[] = [];
  for (const { instrumentation } of instrumentationRegistry().registered) {
    try {
      fn(instrumentation);
    } catch (error) {
      failed.push(error);
    }
  }
  return failed;
}

/** Where packages are looked up for the app: its main script's folder first, then the working directory. */
export function appDirectories(argv: readonly string[] = process.argv, cwd = process.cwd()): string[] {
  const main = argv[1];
  const dirs = main === undefined || main === '' ? [cwd] : [dirname(main), cwd];
  return [...new Set(dirs)];
}

/** A `require` that resolves from one of `dirs`: the first that finds `name`, or `undefined`. */
export function requireFrom(dirs: readonly string[], name: string): NodeJS.Require | undefined {
  for (const dir of dirs) {
    const require = createRequire(join(dir, 'index.js'));
    try {
      require.resolve(name);
      return require;
    } catch (error) {
      // Found, but without a CommonJS entry (an ESM-only export map): installed all the same.
      if ((error as { code?: unknown }).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return require;
    }
  }
  return undefined;
}

/** A pattern matching a path or URL inside the node_modules folder of one of `packages`. */
export function packagePathPattern(packages: readonly string[]): RegExp {
  const names = packages.map((name) => name.replace(/[.]/g, '\\.').replace('/', '[\\\\/]'));
  return new RegExp(`[\\\\/]node_modules[\\\\/](${names.join('|')})[\\\\/]`);
}

const clientPackagePattern = packagePathPattern(datastoreClients.flatMap((client) => client.packages));

/**
 * The clients among {@link datastoreClients} that the app has loaded, from the CommonJS module
 * cache: all four are CommonJS packages, and Node.js caches a CommonJS module there whether it was
 * required or imported from ESM. Scanned once, at start-up.
 */
export function loadedDatastoreClients(cache: Readonly<Record<string, unknown>> = moduleCache()): string[] {
  const found = new Set<string>();
  for (const path of Object.keys(cache)) {
    const match = clientPackagePattern.exec(path);
    if (match === null) continue;
    const packageName = match[1]!.replace(/\\/g, '/');
    const client = datastoreClients.find((candidate) => candidate.packages.includes(packageName));
    if (client !== undefined) found.add(client.name);
  }
  return datastoreClients.filter((client) => found.has(client.name)).map((client) => client.name);
}

/** Node.js's one CommonJS module cache (every `require` function shares it). */
function moduleCache(): Readonly<Record<string, unknown>> {
  return createRequire(join(process.cwd(), 'index.js')).cache;
}

/** The start-up hint for datastore clients loaded without spans: its level, fields and message. */
export interface DatastoreHint {
  /** `warn` when the preload failed on a client; `info` when it did not run or missed a package. */
  readonly level: 'info' | 'warn';
  readonly fields: {
    readonly uninstrumented: string[];
    readonly preload: 'esm' | 'cjs' | undefined;
    readonly install?: string[];
    readonly failed?: string[];
  };
  readonly message: string;
}

/**
 * The one start-up line for clients the app loaded whose calls make no spans: how to start the
 * preload, and which instrumentation packages to install (those `installed` does not find).
 * `undefined` when every loaded client is instrumented.
 */
export function datastoreHint(
  loaded: readonly string[],
  registry: InstrumentationRegistry = instrumentationRegistry(),
  installed: (name: string) => boolean = (name) => requireFrom(appDirectories(), name) !== undefined,
): DatastoreHint | undefined {
  const instrumented = new Set(registry.registered.map((entry) => entry.client));
  const clients = datastoreClients.filter(
    (client) => loaded.includes(client.name) && !instrumented.has(client.name),
  );
  if (clients.length === 0) return undefined;
  const uninstrumented = clients.map((client) => client.name);
  const names = uninstrumented.join(', ');
  const { preload } = registry;
  const failed = registry.skipped
    .filter((skip) => skip.reason === 'failed' && uninstrumented.includes(skip.client))
    .map((skip) => `${skip.client}: ${skip.detail ?? 'unknown error'}`);
  if (failed.length > 0) {
    return {
      level: 'warn',
      fields: { uninstrumented, preload, failed },
      message: `${names} loaded without query spans: apprunner-kit/register failed to instrument them`,
    };
  }
  const missing = clients.map((client) => client.instrumentation.package).filter((name) => !installed(name));
  const install = missing.length === 0 ? {} : { install: missing };
  const npmInstall = missing.length === 0 ? '' : `; npm install ${missing.join(' ')}`;
  if (preload === undefined) {
    return {
      level: 'info',
      fields: { uninstrumented, preload, ...install },
      message: `${names} loaded without query spans: start the app with \`node --import apprunner-kit/register\` (ESM) or \`node --require apprunner-kit/register\` (CommonJS)${npmInstall}`,
    };
  }
  // The preload ran and skipped them: their instrumentation is missing, or was not where it looked.
  return {
    level: 'info',
    fields: { uninstrumented, preload, ...install },
    message: `${names} loaded without query spans: apprunner-kit/register found no instrumentation for them${npmInstall}`,
  };
}
