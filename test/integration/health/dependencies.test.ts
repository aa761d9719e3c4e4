import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppRunnerRuntime, HealthRegistry, postgresProbe, redisProbe } from '../../../src/index.js';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';
import {
  requirePostgres,
  requireRedis,
  type ServiceInstance,
  startPostgres,
  startRedis,
} from '../../support/services/index.js';

const postgres = requirePostgres({ dedicated: true });
const redis = requireRedis({ dedicated: true });

const health = { minIntervalMs: 200, timeoutMs: 300, budgetMs: 800 };

/** Polls `/readyz` until it answers `status`; returns how long that took. Every request is timed. */
async function readyzUntil(runtime: AppRunnerRuntime, status: number, withinMs: number): Promise<number> {
  const url = `${baseUrl(runtime.server!)}/readyz`;
  const started = performance.now();
  for (;;) {
    const requestStarted = performance.now();
    const response = await get(url);
    expect(performance.now() - requestStarted, 'each /readyz answers within its budget').toBeLessThan(1_200);
    if (response.status === status) return performance.now() - started;
    if (performance.now() - started > withinMs) {
      throw new Error(`/readyz still ${response.status} after ${withinMs} ms: ${response.body}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The status of the `postgres` check in a `/readyz` body. */
function postgresStatus(body: string): string | undefined {
  return (JSON.parse(body) as { checks: Record<string, { status: string }[]> }).checks.postgres?.[0]?.status;
}

async function expectLive(runtime: AppRunnerRuntime): Promise<void> {
  expect((await get(`${baseUrl(runtime.server!)}/healthz`)).status).toBe(200);
}

describe.skipIf(!postgres.available)('readiness follows a real PostgreSQL', () => {
  let server: ServiceInstance;
  let pool: pg.Pool;
  let runtime: AppRunnerRuntime;

  beforeAll(async () => {
    server = await startPostgres();
    pool = new pg.Pool({ connectionString: server.url, connectionTimeoutMillis: 500, max: 4 });
    pool.on('error', () => {}); // idle clients die with the server; the probe reports it
    ({ runtime } = await startRuntime({ app: (_req, res) => res.end(), health }));
    runtime.health.register('postgres', postgresProbe(pool), { componentType: 'datastore' });
  });

  afterAll(async () => {
    await stopRuntimes();
    await pool?.end().catch(() => {});
    await server?.dispose();
  });

  it('passes while the server runs', async () => {
    await readyzUntil(runtime, 200, 2_000);
  });

  it('turns 503 within one interval when the server stops, while liveness stays 200', async () => {
    await server.stop();
    const elapsed = await readyzUntil(runtime, 503, 2_000);
    expect(elapsed).toBeLessThan(health.minIntervalMs + health.timeoutMs + 500);
    await expectLive(runtime);
  });

  it('passes again once the server is back', async () => {
    await server.start();
    await readyzUntil(runtime, 200, 5_000);
  });

  it('still answers within its budget, failing, while the server hangs (SIGSTOP), and recovers', async () => {
    await server.pause();
    try {
      await readyzUntil(runtime, 503, 3_000);
      await expectLive(runtime);
    } finally {
      await server.resume();
    }
    await readyzUntil(runtime, 200, 6_000);
  });

  it('closes the pool client of a query hung past its timeout: a hung server holds no slot of the pool', async () => {
    const registry = new HealthRegistry({ timeoutMs: 100, minIntervalMs: 0, budgetMs: 500 });
    const probed = new pg.Pool({ connectionString: server.url, connectionTimeoutMillis: 500, max: 2 });
    probed.on('error', () => {});
    registry.register('postgres', postgresProbe(probed));
    try {
      expect((await registry.evaluate('readiness')).status).toBe('pass');
      expect([probed.totalCount, probed.idleCount]).toEqual([1, 1]); // kept for the next run
      await server.pause();
      try {
        const hung = await registry.evaluate('readiness');
        expect(hung.checks.postgres).toMatchObject({ status: 'fail', output: 'timed out after 100 ms' });
        expect(probed.totalCount).toBe(0);
      } finally {
        await server.resume();
      }
      await delay(20);
      expect((await registry.evaluate('readiness')).status).toBe('pass');
    } finally {
      await probed.end().catch(() => {});
    }
  });
  it("warns, still 200, while the app's own queries hold every client of the pool, and passes after", async () => {
    // The runtime's probe shares `pool` (max 4) with the app: four 1.5 s queries take every client,
    // and a fifth waits. The check must not queue behind them (it would time out: 503).
    await readyzUntil(runtime, 200, 2_000);
    const app = Array.from({ length: 4 }, () => pool.query('SELECT pg_sleep(1.5)'));
    await delay(health.minIntervalMs + 50); // past the last result's interval
    expect([pool.totalCount, pool.idleCount]).toEqual([4, 0]);
    const url = `${baseUrl(runtime.server!)}/readyz`;
    const seen: string[] = [];
    while (pool.idleCount === 0) {
      const response = await get(url);
      seen.push(`${response.status} ${postgresStatus(response.body)}`);
      // The check keeps one request at most in the pool's queue, whatever the number of runs.
      expect(pool.waitingCount).toBeLessThanOrEqual(1);
      await delay(150);
    }
    // The last poll may come as the queries end, and pass.
    const busy = seen.slice(0, -1);
    expect(busy.length).toBeGreaterThan(3);
    expect(new Set(busy)).toEqual(new Set(['200 warn']));
    expect(['200 warn', '200 pass']).toContain(seen.at(-1));
    await Promise.all(app);
    await delay(health.minIntervalMs + 50);
    expect(postgresStatus((await get(url)).body)).toBe('pass');
  });

  it('leaves no client and no queued request behind over many runs on a busy pool', async () => {
    const registry = new HealthRegistry({ timeoutMs: 100, minIntervalMs: 0, budgetMs: 500 });
    const probed = new pg.Pool({ connectionString: server.url, max: 2, application_name: 'probe-rounds' });
    probed.on('error', () => {});
    // The check's own requests for a client (the app's pool.query() passes a callback).
    let outstanding = 0;
    let mostOutstanding = 0;
    const connect = probed.connect.bind(probed);
    probed.connect = ((callback?: Parameters<typeof connect>[0]) => {
      if (callback !== undefined) return connect(callback);
      outstanding += 1;
      mostOutstanding = Math.max(mostOutstanding, outstanding);
      const settled = () => {
        outstanding -= 1;
      };
      const lending = connect();
      lending.then(settled, settled);
      return lending;
    }) as typeof probed.connect;
    registry.register('postgres', postgresProbe(probed));
    const opened = async () => {
      const { rows } = await pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'probe-rounds'",
      );
      return rows[0]?.n;
    };
    try {
      const statuses: string[] = [];
      for (let round = 0; round < 6; round += 1) {
        const app = [probed.query('SELECT pg_sleep(0.3)'), probed.query('SELECT pg_sleep(0.3)')];
        const waiting = probed.query('SELECT 1');
        for (let run = 0; run < 5; run += 1) {
          statuses.push((await registry.evaluate('readiness')).checks.postgres?.status ?? 'missing');
          await delay(20);
        }
        await Promise.all([...app, waiting]);
        statuses.push((await registry.evaluate('readiness')).checks.postgres?.status ?? 'missing');
      }
      expect(statuses).not.toContain('fail');
      expect(statuses).toContain('warn');
      expect(mostOutstanding).toBe(1);
      await delay(50);
      expect(outstanding).toBe(0);
      expect([probed.totalCount, probed.waitingCount]).toEqual([2, 0]);
      expect(await opened()).toBe(2);
    } finally {
      await probed.end().catch(() => {});
    }
  });

  it('fails once its query on a busy pool has not completed for stalledAfterMs: a hung server holds every client', async () => {
    const registry = new HealthRegistry({ timeoutMs: 200, minIntervalMs: 0, budgetMs: 500 });
    const probed = new pg.Pool({ connectionString: server.url, max: 2 });
    probed.on('error', () => {});
    registry.register('postgres', postgresProbe(probed, { stalledAfterMs: 800 }));
    try {
      expect((await registry.evaluate('readiness')).status).toBe('pass');
      const app = [probed.query('SELECT pg_sleep(0.3)'), probed.query('SELECT pg_sleep(0.3)')];
      await delay(50);
      await server.pause(); // the two queries now hang with the server
      try {
        const hung = await registry.evaluate('readiness');
        expect(hung.checks.postgres).toMatchObject({ status: 'warn' });
        expect(hung.checks.postgres?.output).toBe('pool busy: all 2 connections in use or promised');
        await delay(900);
        const stalled = await registry.evaluate('readiness');
        expect(stalled.status).toBe('fail');
        expect(stalled.checks.postgres?.output).toMatch(
          /^pool stalled: all 2 connections in use or promised, and no query of the check completed within stalledAfterMs \(800 ms\)/,
        );
      } finally {
        await server.resume();
      }
      await Promise.all(app);
      await delay(20);
      expect((await registry.evaluate('readiness')).status).toBe('pass');
    } finally {
      await probed.end().catch(() => {});
    }
  });
  it("fails on a hung server though the app's query timeouts keep giving clients back whole", async () => {
    // The common pattern: connect(), query, release() in a finally, with pg's client-side
    // query_timeout. On a hung server each query times out and its client goes back whole (pg-pool
    // keeps it): the pool frees and lends all along, and only the check's own query tells.
    const registry = new HealthRegistry({ timeoutMs: 200, minIntervalMs: 0, budgetMs: 500 });
    const probed = new pg.Pool({
      connectionString: server.url,
      max: 2,
      query_timeout: 300,
      connectionTimeoutMillis: 500,
    });
    probed.on('error', () => {});
    registry.register('postgres', postgresProbe(probed, { stalledAfterMs: 800 }));
    let stop = false;
    const appLoop = async () => {
      while (!stop) {
        const client = await probed.connect().catch(() => undefined);
        if (client === undefined) {
          await delay(10);
          continue;
        }
        try {
          await client.query('SELECT pg_sleep(0.05)');
        } catch {
          // the query timed out: the app answers its request with an error, and goes on
        } finally {
          client.release();
        }
      }
    };
    let loops: Promise<void>[] = [];
    try {
      expect((await registry.evaluate('readiness')).status).toBe('pass');
      loops = [appLoop(), appLoop(), appLoop()];
      await delay(100);
      await server.pause();
      const paused = performance.now();
      const seen: string[] = [];
      try {
        while (performance.now() - paused < 2_500) {
          const at = performance.now() - paused;
          seen.push(
            `${at < 800 ? 'early' : at < 1_300 ? 'soon' : 'late'} ${(await registry.evaluate('readiness')).status}`,
          );
          await delay(100);
        }
      } finally {
        await server.resume();
      }
      expect(seen).toContain('early warn');
      expect(new Set(seen.filter((status) => status.startsWith('late')))).toEqual(new Set(['late fail']));
    } finally {
      stop = true;
      await Promise.all(loops);
      await probed.end().catch(() => {});
    }
  });

  it('warns, never fails, on a pool of 4 under 8 clients looping 1 s queries, with a stalledAfterMs of 2.5 s', async () => {
    const registry = new HealthRegistry({ timeoutMs: 300, minIntervalMs: 0, budgetMs: 500 });
    const probed = new pg.Pool({ connectionString: server.url, max: 4 });
    probed.on('error', () => {});
    registry.register('postgres', postgresProbe(probed, { stalledAfterMs: 2_500 }));
    let stop = false;
    const appLoop = async () => {
      while (!stop) await probed.query('SELECT pg_sleep(1)');
    };
    const loops = Array.from({ length: 8 }, appLoop);
    try {
      await delay(50);
      const seen: string[] = [];
      const started = performance.now();
      while (performance.now() - started < 4_500) {
        seen.push((await registry.evaluate('readiness')).status);
        await delay(250);
      }
      // Over 4.5 s the check's own query went through the queue, between the app's, more than once.
      expect(new Set(seen)).toEqual(new Set(['warn']));
    } finally {
      stop = true;
      await Promise.all(loops);
      await probed.end().catch(() => {});
    }
  });
});

describe.skipIf(!redis.available)('readiness follows a real Redis', () => {
  let server: ServiceInstance;
  let client: Redis;
  let runtime: AppRunnerRuntime;

  beforeAll(async () => {
    server = await startRedis();
    client = new Redis(server.url, {
      connectTimeout: 500,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => 100,
    });
    client.on('error', () => {});
    ({ runtime } = await startRuntime({ app: (_req, res) => res.end(), health }));
    runtime.health.register('redis', redisProbe(client), { componentType: 'datastore' });
  });

  afterAll(async () => {
    await stopRuntimes();
    client?.disconnect();
    await server?.dispose();
  });

  it('passes, fails when stopped (liveness unaffected), and passes again when started', async () => {
    await readyzUntil(runtime, 200, 3_000);
    await server.stop();
    const elapsed = await readyzUntil(runtime, 503, 2_000);
    expect(elapsed).toBeLessThan(health.minIntervalMs + health.timeoutMs + 500);
    await expectLive(runtime);
    await server.start();
    await readyzUntil(runtime, 200, 5_000);
  });

  it('answers within its budget while Redis hangs (SIGSTOP), and recovers', async () => {
    await server.pause();
    try {
      await readyzUntil(runtime, 503, 3_000);
    } finally {
      await server.resume();
    }
    await readyzUntil(runtime, 200, 6_000);
  });
});
