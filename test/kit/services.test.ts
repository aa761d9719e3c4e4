import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { applyEnv } from '../support/env.js';
import {
  requirePostgres,
  requireRedis,
  SERVICES_DIR,
  type ServiceInstance,
  startPostgres,
  startRedis,
} from '../support/services/index.js';
import { sweepOrphans } from '../support/services/managed-process.js';

const sharedPostgres = requirePostgres();
const sharedRedis = requireRedis();
const dedicatedPostgres = requirePostgres({ dedicated: true });
const dedicatedRedis = requireRedis({ dedicated: true });

/** A pg client whose every wait is bounded; errors after a server stop are expected, not thrown. */
async function connectPg(url: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 1_000,
    query_timeout: 1_000,
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function pgAnswers(url: string): Promise<number> {
  const client = await connectPg(url);
  try {
    const { rows } = await client.query<{ n: number }>('SELECT 41 + 1 AS n');
    return rows[0]!.n;
  } finally {
    await client.end().catch(() => {});
  }
}

/** An ioredis client that never queues or reconnects, and whose commands time out. */
function redisClient(url: string): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: 500,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  return client;
}

async function redisAnswers(url: string): Promise<string> {
  const client = redisClient(url);
  try {
    await client.connect();
    return await client.ping();
  } finally {
    client.disconnect();
  }
}

describe.skipIf(!sharedPostgres.available || !sharedRedis.available)(
  'shared instances from the global setup',
  () => {
    it('exports TEST_POSTGRES_URL and TEST_REDIS_URL on 127.0.0.1', async () => {
      expect(sharedPostgres.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      expect(sharedRedis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(await pgAnswers(sharedPostgres.url)).toBe(42);
      expect(await redisAnswers(sharedRedis.url)).toBe('PONG');
    });
  },
);

describe.skipIf(!dedicatedPostgres.available)('a dedicated PostgreSQL', () => {
  let postgres: ServiceInstance;

  beforeAll(async () => {
    postgres = await startPostgres();
  });

  afterAll(async () => {
    await postgres?.dispose();
  });

  it('runs as the postgres user in its own folder, and answers pg', async () => {
    expect(postgres.state).toBe('running');
    expect(postgres.url).not.toBe(sharedPostgres.url);
    expect(await pgAnswers(postgres.url)).toBe(42);
    const client = await connectPg(postgres.url);
    const { rows } = await client.query<{ user: string; dir: string }>(
      'SELECT current_user AS user, current_setting($1) AS dir',
      ['data_directory'],
    );
    await client.end();
    expect(rows[0]).toEqual({ user: 'postgres', dir: join(postgres.dir, 'data') });
  });

  it('stop → errors; start → works again on the same URL', async () => {
    const connected = await connectPg(postgres.url);
    const pidBefore = postgres.pid;
    await postgres.stop();
    expect(postgres.state).toBe('stopped');
    expect(postgres.pid).toBeUndefined();
    await expect(connected.query('SELECT 1')).rejects.toThrow();
    await expect(pgAnswers(postgres.url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await postgres.start();
    expect(postgres.pid).not.toBe(pidBefore);
    expect(await pgAnswers(postgres.url)).toBe(42);
  });

  it('pause → connects and queries hang (bounded by the client timeouts); resume → works', async () => {
    const connected = await connectPg(postgres.url);
    postgres.pause();
    expect(postgres.state).toBe('paused');
    const started = performance.now();
    await expect(connected.query('SELECT 1')).rejects.toThrow(/timeout/i);
    await expect(pgAnswers(postgres.url)).rejects.toThrow(/timeout/i);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_900);
    postgres.resume();
    expect(postgres.state).toBe('running');
    expect(await pgAnswers(postgres.url)).toBe(42);
    await connected.end().catch(() => {});
  });

  it('kill → a crash; start → recovers', async () => {
    const client = await connectPg(postgres.url);
    // The test cluster runs with synchronous_commit=off: a commit meant to survive a kill asks for it.
    await client.query('SET synchronous_commit = on');
    await client.query('CREATE TABLE IF NOT EXISTS survivors (n int)');
    await client.query('INSERT INTO survivors VALUES (1)');
    await client.end();
    await postgres.kill();
    await expect(pgAnswers(postgres.url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await postgres.start();
    const after = await connectPg(postgres.url);
    const { rows } = await after.query<{ n: number }>('SELECT n FROM survivors');
    await after.end();
    expect(rows).toEqual([{ n: 1 }]);
  });
});

describe.skipIf(!dedicatedRedis.available)('a dedicated Redis', () => {
  let redis: ServiceInstance;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis?.dispose();
  });

  it('answers ioredis', async () => {
    expect(redis.url).not.toBe(sharedRedis.url);
    expect(await redisAnswers(redis.url)).toBe('PONG');
  });

  it('stop → errors; start → works again, empty', async () => {
    const client = redisClient(redis.url);
    await client.connect();
    await client.set('k', 'v');
    await redis.stop();
    await expect(client.get('k')).rejects.toThrow();
    await expect(redisAnswers(redis.url)).rejects.toThrow(/ECONNREFUSED|Connection is closed/);
    await redis.start();
    const again = redisClient(redis.url);
    await again.connect();
    expect(await again.get('k')).toBeNull();
    client.disconnect();
    again.disconnect();
  });

  it('pause → commands hang until commandTimeout; resume → works', async () => {
    const client = redisClient(redis.url);
    await client.connect();
    redis.pause();
    await expect(client.ping()).rejects.toThrow(/timed out/i);
    redis.resume();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });
});

describe('requirePostgres / requireRedis', () => {
  let restore: (() => void) | undefined;
  afterEach(() => {
    restore?.();
    restore = undefined;
    vi.restoreAllMocks();
  });

  it('outside CI, a missing service skips with a loud message', () => {
    restore = applyEnv({ CI: undefined, TEST_REDIS_URL: undefined, TEST_REDIS_UNAVAILABLE: 'no redis here' });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(requireRedis()).toEqual({ available: false, url: '', reason: 'no redis here' });
    expect(warn.mock.calls.join('\n')).toMatch(/SKIPPING redis tests[\s\S]*no redis here/);
  });

  it('with CI=true, a missing service is an error, never a skip', () => {
    restore = applyEnv({ CI: 'true', TEST_POSTGRES_URL: undefined, TEST_POSTGRES_UNAVAILABLE: undefined });
    expect(() => requirePostgres()).toThrow(/postgres is required and CI=true: not skipping/);
  });

  it('a URL set in the environment is used as it is', () => {
    restore = applyEnv({ CI: 'true', TEST_POSTGRES_URL: 'postgres://u@127.0.0.1:1/db' });
    expect(requirePostgres()).toEqual({
      available: true,
      url: 'postgres://u@127.0.0.1:1/db',
      reason: undefined,
    });
  });
});

describe('orphans', () => {
  it('kills a server whose owning test process died, and deletes its folder', async () => {
    const dead = spawn(process.execPath, ['-e', '0']);
    await once(dead, 'exit');
    mkdirSync(SERVICES_DIR, { recursive: true });
    const dir = mkdtempSync(join(SERVICES_DIR, 'orphan-'));
    const server = spawn('sleep', ['30'], { cwd: dir, detached: true, stdio: 'ignore' });
    const exited = once(server, 'exit');
    writeFileSync(join(dir, 'owner.json'), JSON.stringify({ ownerPid: dead.pid, pid: server.pid }));
    sweepOrphans({ force: true });
    const [, signal] = await Promise.race([
      exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('orphan still alive')), 2_000)),
    ]);
    expect(signal).toBe('SIGKILL');
    expect(existsSync(dir)).toBe(false);
  });
});
