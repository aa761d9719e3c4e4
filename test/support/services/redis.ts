import { rmSync } from 'node:fs';
import { freePort } from '../child.js';
import { ensureServicesInstalled } from './binaries.js';
import { portTaken, type ServiceInstance, toInstance } from './instance.js';
import { createInstanceDir, ManagedProcess } from './managed-process.js';

/** Options of {@link startRedis}. */
export interface RedisOptions {
  /** Extra `--name value` arguments, e.g. `{ requirepass: 'secret' }`. */
  readonly settings?: Readonly<Record<string, string | number>>;
  /** @default 10_000 */
  readonly startTimeoutMs?: number;
}

/**
 * Starts a dedicated Redis on a free port of 127.0.0.1, without persistence (a restart starts
 * empty), logging to the handle. Installs the Debian package first when it is missing.
 */
export async function startRedis(options: RedisOptions = {}): Promise<ServiceInstance> {
  const { redisServer } = await ensureServicesInstalled();
  const dir = createInstanceDir('redis');
  try {
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
        '--daemonize',
        'no',
        '--dir',
        dir,
        '--logfile',
        '',
      ];
      for (const [name, value] of Object.entries(options.settings ?? {}))
        args.push(`--${name}`, String(value));
      const server = new ManagedProcess(dir, {
        command: redisServer,
        args,
        cwd: dir,
        ready: /Ready to accept connections/,
        stopSignal: 'SIGTERM',
        startTimeoutMs: options.startTimeoutMs ?? 10_000,
      });
      try {
        await server.start();
      } catch (error) {
        if (attempt < 3 && portTaken(error)) continue;
        throw error;
      }
      return toInstance('redis', `redis://127.0.0.1:${port}`, port, server);
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
