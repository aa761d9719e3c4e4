import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { createTerminus } from '@godaddy/terminus';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchFailure } from '../../../src/health/probes/http.js';
import {
  eventLoopDelayProbe,
  eventLoopUtilizationProbe,
  HealthRegistry,
  httpProbe,
  InvalidArgumentError,
  memoryProbe,
  mysqlProbe,
  postgresProbe,
  redisProbe,
  tcpProbe,
  terminusHealthChecks,
} from '../../../src/index.js';
import { killApps, startApp } from '../../support/app-process.js';
import { freePort } from '../../support/child.js';
import { get } from '../../support/http.js';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
  killApps();
});

function listen(handler: Parameters<typeof createServer>[1]): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

const never = new AbortController().signal;

describe('probes', () => {
  it('tcpProbe passes on an open port and fails on a closed one', async () => {
    const open = await listen((_req, res) => res.end());
    await expect(tcpProbe({ host: '127.0.0.1', port: open })(never)).resolves.toMatchObject({
      status: 'pass',
      observedUnit: 'ms',
    });
    const closed = await freePort();
    await expect(tcpProbe({ host: '127.0.0.1', port: closed })(never)).rejects.toThrow(`127.0.0.1:${closed}`);
  });

  it('httpProbe checks the status', async () => {
    const port = await listen((req, res) => {
      res.statusCode = req.url === '/down' ? 500 : 204;
      res.end();
    });
    await expect(httpProbe({ url: `http://127.0.0.1:${port}/up` })(never)).resolves.toMatchObject({
      status: 'pass',
    });
    await expect(httpProbe({ url: `http://127.0.0.1:${port}/down` })(never)).rejects.toThrow('answered 500');
    await expect(
      httpProbe({ url: `http://127.0.0.1:${port}/up`, expectStatus: [200] })(never),
    ).rejects.toThrow('204');
  });

  it('httpProbe stops when its signal aborts', async () => {
    const port = await listen(() => {});
    const controller = new AbortController();
    const running = httpProbe({ url: `http://127.0.0.1:${port}/hang` })(controller.signal);
    controller.abort();
    await expect(running).rejects.toThrow();
  });

  it('httpProbe names its URL without credentials or query string, and sends the headers given', async () => {
    const seen: (string | undefined)[] = [];
    const port = await listen((req, res) => {
      seen.push(req.headers['x-api-key'] as string | undefined);
      res.statusCode = 500;
      res.end();
    });
    const probe = httpProbe({
      url: `http://127.0.0.1:${port}/x?api_key=hunter2`,
      headers: { 'x-api-key': 'k1' },
    });
    const failure = await Promise.resolve(probe(never)).catch((error: Error) => error.message);
    expect(failure).toBe(`GET http://127.0.0.1:${port}/x answered 500`);
    expect(seen).toEqual(['k1']);
    expect(() => httpProbe({ url: `http://user:hunter2@127.0.0.1:${port}/x` })).toThrow(
      `httpProbe: url http://127.0.0.1:${port}/x carries credentials, which fetch refuses; send them in the headers option.`,
    );
    expect(() => httpProbe({ url: '/relative' })).toThrow(InvalidArgumentError);
  });

  it("httpProbe's failure names the cause, the errors of every address when all failed (IPv6 and IPv4)", () => {
    const both = new AggregateError([
      new Error('connect ECONNREFUSED ::1:8080'),
      new Error('connect ECONNREFUSED 127.0.0.1:8080'),
    ]);
    expect(fetchFailure(new TypeError('fetch failed', { cause: both }))).toBe(
      'connect ECONNREFUSED ::1:8080; connect ECONNREFUSED 127.0.0.1:8080',
    );
    expect(
      fetchFailure(
        new TypeError('fetch failed', { cause: Object.assign(new Error(''), { code: 'ECONNRESET' }) }),
      ),
    ).toBe('ECONNRESET');
    expect(fetchFailure(new TypeError('fetch failed'))).toBe('fetch failed');
    expect(fetchFailure('odd')).toBe('odd');
  });

  it('httpProbe names its URL and the cause when it cannot connect, the query string left out', async () => {
    const port = await freePort(); // nothing listens there
    const failure = await Promise.resolve(
      httpProbe({ url: `http://127.0.0.1:${port}/status?key=hunter2` })(never),
    ).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe(
      `GET http://127.0.0.1:${port}/status failed: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect((failure as Error).cause).toBeInstanceOf(TypeError); // fetch's own error, kept
  });

  it('memoryProbe compares with its limits', () => {
    expect(memoryProbe({})(never)).toMatchObject({ status: 'pass', observedUnit: 'bytes' });
    expect(memoryProbe({ maxRssBytes: 1 })(never)).toMatchObject({ status: 'fail' });
    expect(memoryProbe({ maxHeapUsedBytes: 1 })(never)).toMatchObject({ status: 'fail' });
  });

  describe("memoryProbe's maxHeapUsedBytes against the heap's limit, in an app under --max-old-space-size=128", () => {
    const fixture = new URL('../../fixtures/memory-probe-app.mjs', import.meta.url).pathname;
    const execArgv = ['--max-old-space-size=128'];
    const warned = (line: Record<string, unknown>) =>
      (line.warning as { code?: unknown } | undefined)?.code === 'ARK_HEAP_THRESHOLD_UNREACHABLE';

    // 200 MiB is under V8's heap_size_limit there (320 MiB on Node 24, 176 on 22, 224 on 26: the young
    // generation's room added), yet the process dies at about 130 MB in use.
    it.each([512, 200])(
      'is warned of once at start when at or above it (%i MiB), as the heap never gets there',
      async (mebibytes) => {
        const app = await startApp(fixture, { MAX_HEAP_USED_BYTES: String(mebibytes * 2 ** 20) }, execArgv);
        const line = await app.waitForLine(warned, 5000);
        expect(line).toMatchObject({
          level: 'warn',
          msg: `memoryProbe's maxHeapUsedBytes (${mebibytes * 2 ** 20} bytes, ${mebibytes} MiB) is at or above the heap's limit (--max-old-space-size=128), 134217728 bytes (128 MiB): the heap never gets there, so the process runs out of memory before the check fails; set it under the limit (such as 107374182, 80 % of it), or raise --max-old-space-size`,
        });
        app.signal('SIGTERM');
        expect((await app.exit()).code).toBe(0);
        expect(app.lines.filter(warned)).toHaveLength(1);
        expect(app.stderr()).toBe('');
      },
    );

    it('is not warned of under it (64 MiB), where the check fails once the heap grows past it', async () => {
      const app = await startApp(fixture, { MAX_HEAP_USED_BYTES: String(64 * 2 ** 20) }, execArgv);
      let status = (await get(`${app.url}/healthz`)).status;
      for (let grown = 0; status === 200 && grown < 12; grown++) {
        await get(`${app.url}/grow`);
        status = (await get(`${app.url}/healthz`)).status;
      }
      expect(status).toBe(503);
      app.signal('SIGTERM');
      expect((await app.exit()).code).toBe(0);
      expect(app.lines.filter(warned)).toEqual([]);
    });
  });

  it('eventLoopDelayProbe measures per interval, not cumulatively', async () => {
    const probe = eventLoopDelayProbe({ maxDelayMs: 150 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const until = Date.now() + 300;
      while (Date.now() < until) {
        // block the loop
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(probe(never)).toMatchObject({ status: 'fail' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(probe(never)).toMatchObject({ status: 'pass' });
    } finally {
      probe.stop();
    }
  });

  it('eventLoopDelayProbe reports no delay on an idle loop (the sampling interval is not a delay)', async () => {
    const probe = eventLoopDelayProbe({ maxDelayMs: 40 });
    try {
      await delay(150);
      const result = probe(never) as { status: string; observedValue: number };
      expect(result.status).toBe('pass');
      expect(result.observedValue).toBeLessThan(15);
    } finally {
      probe.stop();
    }
  });

  it('eventLoopUtilizationProbe reports the busy share since the last run', async () => {
    const probe = eventLoopUtilizationProbe({ max: 0.5 });
    const until = Date.now() + 100;
    while (Date.now() < until) {
      // busy
    }
    expect(probe(never)).toMatchObject({ status: 'fail' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(probe(never)).toMatchObject({ status: 'pass' });
  });

  it('postgresProbe and redisProbe use any client with query() or ping()', async () => {
    const queries: string[] = [];
    await expect(postgresProbe({ query: async (text) => queries.push(text) })(never)).resolves.toMatchObject({
      status: 'pass',
    });
    expect(queries).toEqual(['SELECT 1']);
    await expect(redisProbe({ ping: async () => 'PONG' })(never)).resolves.toMatchObject({ status: 'pass' });
    await expect(
      redisProbe({ ping: async () => Promise.reject(new Error('ECONNREFUSED')) })(never),
    ).rejects.toThrow();
  });
});

describe('postgresProbe and mysqlProbe on a pool', () => {
  /**
   * A pool in pg's shape (or mysql2's): lends one client after `lendAfterMs`, whose query takes
   * `queryMs`, and fails as a real one does once the client is closed under it.
   */
  function pool(lendAfterMs: number, queryMs: number) {
    const givenBack: (Error | undefined | 'destroyed')[] = [];
    let cut: (() => void) | undefined;
    const closing = (how: Error | undefined | 'destroyed') => {
      givenBack.push(how);
      if (how !== undefined) cut?.();
    };
    const client = {
      query: () =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, queryMs);
          cut = () => {
            clearTimeout(timer);
            reject(new Error('Connection terminated'));
          };
        }),
      release: (error?: Error) => closing(error),
      destroy: () => closing('destroyed'),
    };
    const lend = () => delay(lendAfterMs).then(() => client);
    return {
      pg: { totalCount: 1, connect: lend, query: client.query },
      mysql: { getConnection: lend, query: client.query },
      givenBack,
    };
  }

  it('closes a client whose query outlasts the check, and runs its query on one lent after it gave up, given back whole', async () => {
    const hung = pool(0, 1_000);
    const slow = pool(60, 0);
    for (const [probe, given] of [
      [postgresProbe(hung.pg), hung],
      [postgresProbe(slow.pg), slow],
      [mysqlProbe(hung.mysql), hung],
      [mysqlProbe(slow.mysql), slow],
    ] as const) {
      const controller = new AbortController();
      const running = Promise.resolve(probe(controller.signal)).catch((error: unknown) => error);
      await delay(20);
      controller.abort(new DOMException('health check timed out after 20 ms', 'TimeoutError'));
      expect(await running).toBeInstanceOf(Error);
      await delay(60);
      expect(given.givenBack.length).toBeGreaterThan(0);
    }
    // pg: the hung one released with the abort's error (pg-pool closes it), mysql2's destroyed; the
    // ones lent late given back whole once the check's query on them completed.
    expect(hung.givenBack.map((g) => (g instanceof Error ? g.name : g))).toEqual([
      'TimeoutError',
      'destroyed',
    ]);
    expect(slow.givenBack).toEqual([undefined, undefined]);
  });

  it('runs the query on a pool’s client, given back whole (a mysql2 callback pool through its promise())', async () => {
    const quick = pool(0, 0);
    await expect(postgresProbe(quick.pg)(never)).resolves.toMatchObject({ status: 'pass' });
    await expect(mysqlProbe(quick.mysql)(never)).resolves.toMatchObject({ status: 'pass' });
    // A callback pool: through its promise wrapper (its own query would want a callback).
    const callbackPool = {
      promise: () => quick.mysql,
      query: () => {
        throw new Error('the callback API was called');
      },
    };
    await expect(mysqlProbe(callbackPool)(never)).resolves.toMatchObject({ status: 'pass' });
    expect(quick.givenBack).toEqual([undefined, undefined, undefined]);
  });
});

describe('postgresProbe and mysqlProbe on a busy pool', () => {
  /**
   * A pool in mysql2's shape (its promise pool over a callback pool with `denque` queues): `limit`
   * connections, all lent to the app at first. `free()` gives one back as mysql2 does: straight to
   * the first queued request (no event), else to the idle list (a `release` event).
   */
  function mysqlPool(limit: number, { hang = false } = {}) {
    type Connection = { query(): Promise<void>; release(): void; destroy(): void };
    const events = new EventEmitter();
    const core = {
      _allConnections: { length: limit },
      _freeConnections: [] as Connection[],
      _connectionQueue: [] as ((connection: Connection) => void)[],
      config: { connectionLimit: limit },
    };
    let requests = 0;
    const queries: string[] = [];
    const free = () => {
      const connection: Connection = {
        query: () => {
          queries.push('SELECT 1');
          return hang ? new Promise<void>(() => {}) : Promise.resolve();
        },
        release: () => hand(connection),
        destroy: () => {
          core._allConnections.length -= 1;
        },
      };
      hand(connection);
    };
    const hand = (connection: Connection) => {
      const waiting = core._connectionQueue.shift();
      if (waiting !== undefined) waiting(connection);
      else {
        core._freeConnections.push(connection);
        events.emit('release', connection);
      }
    };
    const promisePool = {
      pool: core,
      on: (event: string, listener: () => void) => events.on(event, listener),
      query: async () => {},
      getConnection: () => {
        requests += 1;
        const idle = core._freeConnections.pop();
        if (idle !== undefined) return Promise.resolve(idle);
        return new Promise<Connection>((resolve) => core._connectionQueue.push(resolve));
      },
    };
    return { promisePool, core, events, free, queries, requests: () => requests };
  }

  it('warns without waiting behind the app while its own query is under way, and fails once it has not completed for stalledAfterMs', async () => {
    const busy = mysqlPool(2);
    busy.core._connectionQueue.push(() => {}); // an app request waiting already
    const probe = mysqlProbe(busy.promisePool, { stalledAfterMs: 80 });
    for (let run = 0; run < 3; run += 1) {
      expect(await probe(never)).toMatchObject({
        status: 'warn',
        output: 'pool busy: all 2 connections in use or promised',
        observedUnit: 'ms',
      });
    }
    // One request of the check's in the queue, whatever the number of runs, and no query sent.
    expect([busy.requests(), busy.core._connectionQueue.length, busy.queries]).toEqual([1, 2, []]);
    await delay(100);
    expect(await probe(never)).toMatchObject({
      status: 'fail',
      output:
        'pool stalled: all 2 connections in use or promised, and no query of the check completed within stalledAfterMs (80 ms)',
      observedValue: expect.any(Number),
    });
    busy.free(); // to the app's request, first in the queue
    busy.free(); // to the check's: it runs its query there, and gives it back, to the idle list
    await delay(0);
    expect([busy.core._connectionQueue.length, busy.core._freeConnections.length]).toEqual([0, 1]);
    expect(busy.queries).toEqual(['SELECT 1']);
    expect(await probe(never)).toMatchObject({ status: 'pass', observedUnit: 'ms' });
    expect(busy.queries).toEqual(['SELECT 1', 'SELECT 1']);
  });

  it('counts only a query of its own that completes, on a connection handed to its queued request', async () => {
    const busy = mysqlPool(1);
    const probe = mysqlProbe(busy.promisePool, { stalledAfterMs: 60 });
    expect(await probe(never)).toMatchObject({ status: 'warn' });
    await delay(40);
    busy.core._connectionQueue.push(() => {}); // the app asks after the check
    busy.free(); // to the check, which queries, and gives it back: to the app's request
    await delay(40);
    expect(busy.queries).toEqual(['SELECT 1']);
    // 80 ms since the check first queued, but its query completed 40 ms ago: still busy, not stalled.
    const busyAgain = await probe(never);
    expect(busyAgain).toMatchObject({
      status: 'warn',
      output: 'pool busy: all 1 connections in use or promised',
    });
    expect(busyAgain).toHaveProperty('observedValue', 0);
    expect([busy.requests(), busy.core._connectionQueue.length]).toEqual([2, 1]);
  });

  it('fails on a hung server though the app keeps getting connections back whole (its query timeouts)', async () => {
    // The server answers nothing: every query hangs. The app's own time out client-side, and it
    // gives their connections back whole and asks again: the pool keeps freeing and lending.
    const busy = mysqlPool(1, { hang: true });
    const registry = new HealthRegistry({ timeoutMs: 50, minIntervalMs: 0, budgetMs: 500 });
    registry.register('mysql', mysqlProbe(busy.promisePool, { stalledAfterMs: 100 }));
    expect((await registry.evaluate('readiness')).checks.mysql?.status).toBe('warn'); // check queued
    busy.core._connectionQueue.push(() => {}); // the app asks after the check
    busy.free(); // to the check: its query hangs with the server
    const statuses: string[] = [];
    const started = performance.now();
    while (performance.now() - started < 300) {
      busy.events.emit('release'); // an app query timed out, its connection back whole
      statuses.push(
        `${Math.round(performance.now() - started) >= 120 ? 'late' : 'early'} ${(await registry.evaluate('readiness')).checks.mysql?.status}`,
      );
      await delay(20);
    }
    expect(statuses.filter((status) => status.startsWith('late'))).not.toHaveLength(0);
    expect(new Set(statuses.filter((status) => status.startsWith('late')))).toEqual(new Set(['late fail']));
  });

  it('says the same while busy, run after run: its wait goes in observedValue, not in the text', async () => {
    const busy = mysqlPool(2);
    const probe = mysqlProbe(busy.promisePool, { stalledAfterMs: 10_000 });
    const results: unknown[] = [];
    for (let run = 0; run < 4; run += 1) {
      busy.core._connectionQueue.push(() => {}); // more and more of the app's requests waiting
      results.push(await probe(never));
      await delay(15);
    }
    expect(new Set(results.map((result) => (result as { output?: string }).output))).toEqual(
      new Set(['pool busy: all 2 connections in use or promised']),
    );
    const waited = results.map((result) => (result as { observedValue?: number }).observedValue ?? -1);
    expect(waited[0]).toBe(0);
    expect(waited[3]).toBeGreaterThanOrEqual(40);
  });

  it('adds no listener to the pool: probes created again and again on one pool leave none behind', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', max: 2 });
    const busy = mysqlPool(2);
    try {
      for (let created = 0; created < 12; created += 1) {
        postgresProbe(pool);
        mysqlProbe(busy.promisePool);
      }
      await delay(10); // process warnings are emitted on the next tick
      expect(['release', 'connect'].map((event) => pool.listenerCount(event))).toEqual([0, 0]);
      expect(['release', 'connection'].map((event) => busy.events.listenerCount(event))).toEqual([0, 0]);
      expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
      await pool.end();
    }
  });

  it('gives up a request the pool has not served when its signal aborts, keeps it, and runs its query on what it gets later', async () => {
    let lend: ((client: { query(): Promise<void>; release(error?: Error): void }) => void) | undefined;
    let requests = 0;
    const released: (Error | undefined)[] = [];
    const queried: string[] = [];
    // No counters but totalCount (occupancy unknown): every run borrows.
    const pool = {
      totalCount: 1,
      query: async () => {},
      connect: () => {
        requests += 1;
        return new Promise<{ query(): Promise<void>; release(error?: Error): void }>((resolve) => {
          lend = resolve;
        });
      },
    };
    const probe = postgresProbe(pool);
    for (let run = 0; run < 3; run += 1) {
      const controller = new AbortController();
      const running = Promise.resolve(probe(controller.signal)).catch((error: unknown) => error);
      await delay(10);
      const aborted = performance.now();
      controller.abort(new DOMException('health check timed out after 10 ms', 'TimeoutError'));
      expect(await running).toMatchObject({ name: 'TimeoutError' });
      expect(performance.now() - aborted).toBeLessThan(20); // settled at the abort, not when lent
    }
    expect(requests).toBe(1);
    lend?.({
      query: async () => {
        queried.push('SELECT 1');
      },
      release: (error) => released.push(error),
    });
    await delay(0);
    // Nobody waits for it any more, but it runs the check's query: only that shows the server answers.
    expect([released, queried]).toEqual([[undefined], ['SELECT 1']]);
  });

  it('refuses an empty query and a stalledAfterMs that is not a positive number', () => {
    const pool = {
      totalCount: 0,
      connect: async () => ({ query: async () => {}, release: () => {} }),
      query: async () => {},
    };
    expect(() => postgresProbe(pool, { stalledAfterMs: 0 })).toThrow(InvalidArgumentError);
    expect(() => postgresProbe(pool, { stalledAfterMs: Number.NaN })).toThrow(
      'postgresProbe: stalledAfterMs must be a positive number of milliseconds (10000 by default); received NaN.',
    );
    expect(() => mysqlProbe(pool, '  ')).toThrow('mysqlProbe: query must be a non-empty SQL string');
  });
});

describe('terminusHealthChecks with the real @godaddy/terminus', () => {
  it('answers terminus health routes from the registry', async () => {
    const registry = new HealthRegistry({ timeoutMs: 200, minIntervalMs: 0, budgetMs: 500 });
    let dbUp = true;
    registry.register('db', () => dbUp);
    const server = createServer((_req, res) => res.end('app'));
    servers.push(server);
    createTerminus(server, {
      healthChecks: { ...terminusHealthChecks(registry), verbatim: true },
      signals: [],
      logger: () => {},
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const up = await get(`${url}/readyz`);
    expect(up.status).toBe(200);
    expect(JSON.parse(up.body)).toMatchObject({ status: 'pass', checks: { db: [{ status: 'pass' }] } });
    dbUp = false;
    const down = await get(`${url}/readyz`);
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body)).toMatchObject({ status: 'fail', checks: { db: [{ status: 'fail' }] } });
    expect((await get(`${url}/healthz`)).status).toBe(200);
  });
});
