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
