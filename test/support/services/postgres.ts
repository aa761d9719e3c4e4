import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../child.js';
import { ensureServicesInstalled } from './binaries.js';
import { portTaken, type ServiceInstance, toInstance } from './instance.js';
import { createInstanceDir, ManagedProcess } from './managed-process.js';

/** Options of {@link startPostgres}. */
export interface PostgresOptions {
  /** Extra server settings, passed as `-c name=value`. */
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  /** @default 30_000 */
  readonly startTimeoutMs?: number;
}

/**
 * Settings for a disposable test cluster: no durability (nothing here must survive a power cut;
 * after kill(), the last commits are lost unless their session set synchronous_commit=on),
 * TCP on 127.0.0.1 only, no unix socket (its default folder belongs to the system cluster).
 */
const TEST_SETTINGS: Readonly<Record<string, string | number | boolean>> = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  fsync: false,
  synchronous_commit: false,
  full_page_writes: false,
  max_connections: 50,
  shared_buffers: '16MB',
  log_checkpoints: false,
};

/** uid and gid of the `postgres` user the Debian package creates. */
function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      'running as root but there is no "postgres" user to run PostgreSQL as (apt install postgresql)',
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

function run(command: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 60_000, ...user }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${command} failed: ${error.message}\n${stderr}`));
      else resolve();
    });
  });
}

/**
 * Starts a dedicated PostgreSQL: a fresh cluster (initdb) in its own folder, on a free port of
 * 127.0.0.1, user `postgres` trusted without password. Running as root, the server runs as the
 * `postgres` user. Installs the Debian package first when it is missing.
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<ServiceInstance> {
  const { postgresBinDir } = await ensureServicesInstalled();
  const user = process.getuid?.() === 0 ? postgresUser() : undefined;
  const dir = createInstanceDir('postgres', user?.uid, user?.gid);
  const data = join(dir, 'data');
  try {
    await run(
      join(postgresBinDir, 'initdb'),
      ['-D', data, '-U', 'postgres', '--auth=trust', '--no-locale', '-E', 'UTF8', '--no-sync'],
      user,
    );
    const settings = { ...TEST_SETTINGS, ...options.settings };
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const args = ['-D', data, '-c', `port=${port}`];
      for (const [name, value] of Object.entries(settings)) {
        args.push('-c', `${name}=${typeof value === 'boolean' ? (value ? 'on' : 'off') : value}`);
      }
      const server = new ManagedProcess(dir, {
        command: join(postgresBinDir, 'postgres'),
        args,
        cwd: dir,
        ...user,
        ready: /database system is ready to accept connections/,
        stopSignal: 'SIGINT',
        startTimeoutMs: options.startTimeoutMs ?? 30_000,
      });
      try {
        await server.start();
      } catch (error) {
        if (attempt < 3 && portTaken(error)) continue;
        throw error;
      }
      return toInstance('postgres', `postgres://postgres@127.0.0.1:${port}/postgres`, port, server);
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
