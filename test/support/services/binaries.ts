import { spawn } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../..', import.meta.url).pathname;
const SERVICES_SCRIPT = join(root, 'scripts', 'services.sh');
/** A cold apt install of both packages takes well under a minute here; this is the outer bound. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;

/** Where the Debian binaries of both services are. */
export interface ServiceBinaries {
  /** e.g. `/usr/lib/postgresql/15/bin` (holds `postgres` and `initdb`). */
  readonly postgresBinDir: string;
  readonly redisServer: string;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The newest `/usr/lib/postgresql/<major>/bin` holding `postgres` and `initdb`, if any. */
export function findPostgresBinDir(): string | undefined {
  let majors: string[];
  try {
    majors = readdirSync('/usr/lib/postgresql');
  } catch {
    return undefined;
  }
  return majors
    .filter((major) => /^\d+$/.test(major))
    .sort((a, b) => Number(b) - Number(a))
    .map((major) => `/usr/lib/postgresql/${major}/bin`)
    .find((dir) => executable(join(dir, 'postgres')) && executable(join(dir, 'initdb')));
}

/** `redis-server` from the Debian package, else from PATH, if any. */
export function findRedisServer(): string | undefined {
  const candidates = [
    '/usr/bin/redis-server',
    ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'redis-server')),
  ];
  return candidates.find(executable);
}

let installing: Promise<ServiceBinaries> | undefined;

/**
 * The service binaries, apt-installing `postgresql` and `redis-server` (through
 * `scripts/services.sh install`) when either is missing. Rejects with the installer's output.
 */
export function ensureServicesInstalled(): Promise<ServiceBinaries> {
  const postgresBinDir = findPostgresBinDir();
  const redisServer = findRedisServer();
  if (postgresBinDir !== undefined && redisServer !== undefined) {
    return Promise.resolve({ postgresBinDir, redisServer });
  }
  installing ??= new Promise<ServiceBinaries>((resolve, reject) => {
    const started = performance.now();
    console.warn(`[services] postgres or redis-server missing: installing with ${SERVICES_SCRIPT} install`);
    const child = spawn('bash', [SERVICES_SCRIPT, 'install'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), INSTALL_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${SERVICES_SCRIPT}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const installed = { postgresBinDir: findPostgresBinDir(), redisServer: findRedisServer() };
      if (code === 0 && installed.postgresBinDir !== undefined && installed.redisServer !== undefined) {
        console.warn(`[services] installed in ${Math.round((performance.now() - started) / 1000)} s`);
        resolve({ postgresBinDir: installed.postgresBinDir, redisServer: installed.redisServer });
      } else {
        reject(
          new Error(
            `${SERVICES_SCRIPT} install failed (${signal ?? `exit ${code}`}):\n${output.slice(-4_000)}`,
          ),
        );
      }
    });
  });
  // A failed install may succeed on a later call (e.g. once the dpkg lock is free).
  installing.catch(() => {
    installing = undefined;
  });
  return installing;
}
