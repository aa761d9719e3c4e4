import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigurationError } from '../../../src/index.js';
import { baseUrl, get } from '../../support/http.js';
import { openSocket, readResponse, request } from '../../support/raw-http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

const ok = (_req: unknown, res: { end(): void }) => res.end();

describe('health endpoints with checks', () => {
  it('report each check in application/health+json, with time and duration, error text hidden', async () => {
    const { runtime } = await startRuntime({ app: ok, version: '2.0.0', service: 'notes' });
    runtime.health.register(
      'postgres',
      () => {
        throw new Error('password authentication failed for user "app"');
      },
      { componentType: 'datastore' },
    );
    runtime.health.register('cache', () => ({ status: 'pass', observedValue: 2, observedUnit: 'ms' }));
    const response = await get(`${baseUrl(runtime.server!)}/readyz`);
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toBe('application/health+json');
    expect(response.headers['cache-control']).toBe('no-store');
    const body = JSON.parse(response.body);
    expect(body).toMatchObject({
      status: 'fail',
      serviceId: 'notes',
      version: '2.0.0',
      checks: {
        'lifecycle:state': [{ status: 'pass', observedValue: 'ready' }],
        postgres: [{ status: 'fail', componentType: 'datastore' }],
        cache: [{ status: 'pass', observedValue: 2, observedUnit: 'ms' }],
      },
    });
    expect(body.checks.postgres[0].time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(typeof body.checks.postgres[0].durationMs).toBe('number');
    expect(response.body).not.toContain('password');
  });

  it('shows error text with exposeErrors', async () => {
    const { runtime } = await startRuntime({ app: ok, health: { exposeErrors: true } });
    runtime.health.register('db', () => {
      throw new Error('connect ECONNREFUSED');
    });
    const body = JSON.parse((await get(`${baseUrl(runtime.server!)}/readyz`)).body);
    expect(body.checks.db[0].output).toBe('connect ECONNREFUSED');
  });

  it("masks registered secrets in the body: a check's output and its observedValue", async () => {
    const secret = 'Zq9-very-secret-pw';
    for (const exposeErrors of [true, false]) {
      const { runtime } = await startRuntime({ app: ok, health: { exposeErrors } });
      runtime.redaction.addValue(secret);
      try {
        runtime.health.register('db', () => {
          throw new Error(`auth failed for app with password ${secret}`);
        });
        runtime.health.register('obs', () => ({
          status: 'warn',
          observedValue: `token=${secret}`,
          output: `using ${secret}`,
        }));
        const response = await get(`${baseUrl(runtime.server!)}/readyz`);
        expect(response.body).not.toContain(secret);
        const { checks } = JSON.parse(response.body);
        expect(checks.obs[0].observedValue).toBe('token=[REDACTED]');
        if (exposeErrors) {
          expect(checks.db[0].output).toBe('auth failed for app with password [REDACTED]');
          expect(checks.obs[0].output).toBe('using [REDACTED]');
        }
      } finally {
        runtime.redaction.removeValue(secret);
      }
    }
  });

  it('answers 200 for warn, and HEAD without a body', async () => {
    const { runtime } = await startRuntime({ app: ok });
    runtime.health.register('cache', () => false, { critical: false });
    const url = `${baseUrl(runtime.server!)}/readyz`;
    const response = await get(url);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body).status).toBe('warn');
    const head = await get(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('keeps liveness independent of readiness checks', async () => {
    const { runtime } = await startRuntime({ app: ok });
    runtime.health.register('db', () => false);
    const url = baseUrl(runtime.server!);
    expect((await get(`${url}/readyz`)).status).toBe(503);
    expect((await get(`${url}/healthz`)).status).toBe(200);
    runtime.health.register('heap', () => false, { kind: 'liveness' });
    expect((await get(`${url}/healthz`)).status).toBe(503);
  });

  it('answers /readyz within the budget when a check never settles', async () => {
    const { runtime } = await startRuntime({ app: ok, health: { budgetMs: 300, timeoutMs: 5_000 } });
    runtime.health.register('hung', () => new Promise(() => {}));
    const started = performance.now();
    const response = await get(`${baseUrl(runtime.server!)}/readyz`);
    expect(response.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('fails readiness while draining without running the checks', async () => {
    const { runtime } = await startRuntime({ app: ok, shutdown: { drainDelayMs: 300 } });
    let runs = 0;
    runtime.health.register('db', () => {
      runs++;
    });
    const url = baseUrl(runtime.server!);
    const stopping = runtime.shutdown();
    const response = await get(`${url}/readyz`);
    expect(response.status).toBe(503);
    expect(JSON.parse(response.body).checks['lifecycle:state'][0].observedValue).toBe('draining');
    expect(runs).toBe(0);
    await stopping;
  });

  it('serves /startupz from startup checks, which stop counting once passed', async () => {
    const { runtime } = await startRuntime({ app: ok });
    let warm = false;
    runtime.health.register('cache warm-up', () => warm, { kind: 'startup', minIntervalMs: 0 });
    const url = baseUrl(runtime.server!);
    expect((await get(`${url}/startupz`)).status).toBe(503);
    expect((await get(`${url}/readyz`)).status).toBe(503);
    warm = true;
    expect((await get(`${url}/startupz`)).status).toBe(200);
    warm = false;
    expect((await get(`${url}/readyz`)).status).toBe(200);
    expect((await get(`${url}/startupz`)).status).toBe(200);
  });

  it('logs health requests when asked, without counting them among the requests in flight or shed', async () => {
    const { runtime, logs } = await startRuntime({
      app: ok,
      loadShedding: { maxInFlight: 1 },
      logging: { healthRequests: true },
    });
    runtime.health.register('slow', () => new Promise((resolve) => setTimeout(resolve, 300)), {
      minIntervalMs: 0,
    });
    const probe = get(`${baseUrl(runtime.server!)}/readyz`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runtime.stats().inFlight).toBe(0);
    expect((await get(`${baseUrl(runtime.server!)}/app`)).status).toBe(200); // not shed behind the probe
    expect((await probe).status).toBe(200);
    expect(logs.lines.filter((l) => l.path === '/readyz')).toHaveLength(1);
    expect(runtime.stats()).toMatchObject({ inFlight: 0, served: 1 });
  });

  it('answers an absolute-form target (GET http://host/healthz), which Node passes on as it came', async () => {
    // Arrange: an app that answers 404 to whatever reaches it, as a framework's catch-all would.
    const { runtime, logs } = await startRuntime({
      app: (_req, res) => {
        res.statusCode = 404;
        res.end();
      },
      health: { readinessPath: '/health/ready' },
      logging: { healthRequests: true },
    });
    const socket = await openSocket((runtime.server!.address() as AddressInfo).port);
    try {
      // Act
      socket.write(request('http://localhost/healthz'));
      const liveness = await readResponse(socket);
      socket.write(request('http://localhost:8080/health/ready?probe=1'));
      const readiness = await readResponse(socket);
      socket.write(request('http://localhost/health'));
      const other = await readResponse(socket);
      // Assert
      expect(liveness.head).toMatch(/^HTTP\/1\.1 200 .*content-type: application\/health\+json/is);
      expect(readiness.head).toMatch(/^HTTP\/1\.1 200 /);
      expect(other.head).toMatch(/^HTTP\/1\.1 404 /);
      await vi.waitFor(() => expect(logs.find('request completed')).toHaveLength(3));
      expect(logs.find('request completed').map((l) => l.path)).toEqual([
        '/healthz',
        '/health/ready',
        '/health',
      ]);
    } finally {
      socket.destroy();
    }
  });

  it('moves to configured paths', async () => {
    const { runtime } = await startRuntime({
      app: (_req, res) => {
        res.statusCode = 404;
        res.end();
      },
      health: { livenessPath: '/ping', readinessPath: '/health/ready', startupPath: '/health/started' },
    });
    const url = baseUrl(runtime.server!);
    expect((await get(`${url}/ping`)).status).toBe(200);
    expect((await get(`${url}/health/ready`)).status).toBe(200);
    expect((await get(`${url}/healthz`)).status).toBe(404);
  });

  it('fails liveness on an event-loop stall only when opted in', async () => {
    const { runtime } = await startRuntime({ app: ok, health: { eventLoopStallMs: 200 } });
    const url = baseUrl(runtime.server!);
    expect((await get(`${url}/healthz`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // past the check's minimum interval
    const blockedUntil = Date.now() + 400;
    while (Date.now() < blockedUntil) {
      // block the event loop
    }
    const stalled = await get(`${url}/healthz`);
    expect(stalled.status).toBe(503);
    expect(JSON.parse(stalled.body).checks['eventLoop:stall'][0].observedValue).toBeGreaterThanOrEqual(300);
  });

  it.each([
    [{ livenessPath: 'healthz' }, 'health.livenessPath'],
    [{ readinessPath: '/readyz?x=1' }, 'health.readinessPath'],
    [{ readinessPath: '/healthz' }, 'health.readinessPath'],
    [{ budgetMs: 0 }, 'health.budgetMs'],
    [{ timeoutMs: -5 }, 'health.timeoutMs'],
    [{ exposeErrors: 'yes' }, 'health.exposeErrors'],
    [{ eventLoopStallMs: 10 }, 'health.eventLoopStallMs'],
    [{ interval: 5 }, 'health.interval'],
  ])('rejects health option %j', async (health, field) => {
    const promise = startRuntime({ app: ok, health: health as never });
    await expect(promise).rejects.toBeInstanceOf(ConfigurationError);
    await expect(promise).rejects.toMatchObject({ field });
  });
});
