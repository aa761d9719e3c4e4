import { findPostgresBinDir, findRedisServer } from './binaries.js';
import type { ServiceInstance, ServiceKind } from './instance.js';
import { startPostgres } from './postgres.js';
import { startRedis } from './redis.js';

/** The env variable holding each shared instance's URL. */
export const SERVICE_URL_ENV: Readonly<Record<ServiceKind, string>> = {
  postgres: 'TEST_POSTGRES_URL',
  redis: 'TEST_REDIS_URL',
};

/** Set by the global setup, instead of the URL, when a shared instance could not start. */
const UNAVAILABLE_ENV: Readonly<Record<ServiceKind, string>> = {
  postgres: 'TEST_POSTGRES_UNAVAILABLE',
  redis: 'TEST_REDIS_UNAVAILABLE',
};

const STARTERS: Readonly<Record<ServiceKind, () => Promise<ServiceInstance>>> = {
  postgres: () => startPostgres(),
  redis: () => startRedis(),
};

/** `CI` set to anything but `''`, `0` or `false`, as CI providers do. */
export function isCI(): boolean {
  const ci = process.env.CI?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';
}

/**
 * For the vitest global setup: starts a shared PostgreSQL and Redis for the tests that do not
 * disturb them, and exports their URLs as `TEST_POSTGRES_URL` / `TEST_REDIS_URL` (test workers
 * inherit the env). A URL already set is used as it is and nothing is started for it. A service
 * that cannot start is reported loudly and left to {@link requirePostgres} / {@link requireRedis}.
 * `TEST_SERVICES=off` starts nothing (a quick unit-test loop; tests needing them then skip, or fail
 * in CI). Resolves to the teardown that stops what was started.
 */
export async function startSharedServices(): Promise<() => Promise<void>> {
  const started: ServiceInstance[] = [];
  const off = process.env.TEST_SERVICES?.trim().toLowerCase() === 'off';
  await Promise.all(
    (Object.keys(SERVICE_URL_ENV) as ServiceKind[]).map(async (kind) => {
      const urlEnv = SERVICE_URL_ENV[kind];
      if (process.env[urlEnv]) return;
      if (off) {
        process.env[UNAVAILABLE_ENV[kind]] = `TEST_SERVICES=off: the global setup started no shared ${kind}`;
        return;
      }
      try {
        const instance = await STARTERS[kind]();
        started.push(instance);
        process.env[urlEnv] = instance.url;
        delete process.env[UNAVAILABLE_ENV[kind]];
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        process.env[UNAVAILABLE_ENV[kind]] = reason;
        console.warn(banner(`shared ${kind} could not start`, reason));
      }
    }),
  );
  return async () => {
    await Promise.all(started.splice(0).map((instance) => instance.dispose()));
  };
}

/** Whether a test file may use a service, and where. */
export interface ServiceRequirement {
  readonly available: boolean;
  /** The shared instance's URL; '' when unavailable or when only the binaries were asked for. */
  readonly url: string;
  /** Why it is unavailable. */
  readonly reason: string | undefined;
}

/** Options of {@link requirePostgres} and {@link requireRedis}. */
export interface RequireOptions {
  /**
   * The test starts its own instances (startPostgres/startRedis): require the binaries, not the
   * shared instance. @default false
   */
  readonly dedicated?: boolean;
}

function banner(title: string, reason: string): string {
  const line = '='.repeat(78);
  return `\n${line}\n[services] ${title}\n${reason}\nInstall with: npm run services -- install\n${line}\n`;
}

function requireService(kind: ServiceKind, options: RequireOptions): ServiceRequirement {
  let reason: string | undefined;
  let url = '';
  if (options.dedicated) {
    const found = kind === 'postgres' ? findPostgresBinDir() : findRedisServer();
    if (found === undefined) reason = `the ${kind} binaries are not installed`;
  } else {
    url = process.env[SERVICE_URL_ENV[kind]] ?? '';
    if (url === '') {
      reason =
        process.env[UNAVAILABLE_ENV[kind]] ??
        `${SERVICE_URL_ENV[kind]} is not set (the vitest global setup starts one: run the tests through vitest)`;
    }
  }
  if (reason === undefined) return { available: true, url, reason: undefined };
  if (isCI()) {
    throw new Error(`${kind} is required and CI=${process.env.CI}: not skipping. ${reason}`);
  }
  console.warn(banner(`SKIPPING ${kind} tests: ${kind} is unavailable (with CI=true this fails)`, reason));
  return { available: false, url: '', reason };
}

/**
 * Call at the top of a test file that needs PostgreSQL, then `describe.skipIf(!pg.available)`.
 * Outside CI a missing service skips with a loud message; with `CI` set it throws (the file fails).
 */
export function requirePostgres(options: RequireOptions = {}): ServiceRequirement {
  return requireService('postgres', options);
}

/** As {@link requirePostgres}, for Redis. */
export function requireRedis(options: RequireOptions = {}): ServiceRequirement {
  return requireService('redis', options);
}
