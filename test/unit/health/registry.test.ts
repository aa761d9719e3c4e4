import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { HealthRegistry } from '../../../src/health/registry.js';
import type { HealthCheck } from '../../../src/health/types.js';
import { getRequestContext, runWithRequestContext } from '../../../src/http/context.js';
import { createLogger } from '../../../src/logging/logger.js';
import { captureLogs } from '../../support/log-capture.js';
import { testRequestContext } from '../../support/request-context.js';

const settings = { timeoutMs: 200, minIntervalMs: 0, budgetMs: 500 };

function counting(check: HealthCheck): HealthCheck & { runs: number } {
  const wrapped = Object.assign(
    (signal: AbortSignal) => {
      wrapped.runs++;
      return check(signal);
    },
    { runs: 0 },
  );
  return wrapped;
}

describe('HealthRegistry aggregation', () => {
  it('passes with no checks, and with passing checks of every return shape', async () => {
    const registry = new HealthRegistry(settings);
    expect(await registry.evaluate('readiness')).toEqual({ status: 'pass', checks: {} });
    registry.register('nothing', () => {});
    registry.register('true', () => true);
    registry.register('async', async () => {});
    registry.register('result', () => ({ status: 'pass', observedValue: 3, observedUnit: 'ms' }));
    const evaluation = await registry.evaluate('readiness');
    expect(evaluation.status).toBe('pass');
    expect(Object.keys(evaluation.checks)).toEqual(['nothing', 'true', 'async', 'result']);
    expect(evaluation.checks.result).toMatchObject({ status: 'pass', observedValue: 3, observedUnit: 'ms' });
    expect(new Date(evaluation.checks.nothing!.time).getTime()).toBeGreaterThan(Date.now() - 5_000);
    expect(evaluation.checks.nothing!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('fails on a throwing, rejecting or false critical check, and warns on a non-critical one', async () => {
    const registry = new HealthRegistry(settings);
    registry.register('ok', () => true);
    registry.register('optional', () => false, { critical: false });
    expect((await registry.evaluate('readiness')).status).toBe('warn');
    registry.register('throws', () => {
      throw new Error('db down');
    });
    const evaluation = await registry.evaluate('readiness');
    expect(evaluation.status).toBe('fail');
    expect(evaluation.checks.throws).toMatchObject({ status: 'fail', output: 'db down' });
    expect(evaluation.checks.optional).toMatchObject({ status: 'fail', output: 'check returned false' });
    const rejecting = new HealthRegistry(settings);
    rejecting.register('rejects', async () => Promise.reject(new Error('nope')));
    expect((await rejecting.evaluate('readiness')).checks.rejects).toMatchObject({
      status: 'fail',
      output: 'nope',
    });
  });

  it('takes a warn result as warn, and a status not of ours as a failure that says so', async () => {
    const registry = new HealthRegistry(settings);
    registry.register('slowish', () => ({ status: 'warn', output: 'slow' }));
    expect((await registry.evaluate('readiness')).status).toBe('warn');
    registry.register('weird', () => ({ status: 'DOWN' }) as never); // refused by the type too
    const evaluation = await registry.evaluate('readiness');
    expect(evaluation.status).toBe('fail');
    expect(evaluation.checks.weird?.output).toBe(
      `check returned status "DOWN": return { status: 'pass' | 'warn' | 'fail' }, or throw to fail`,
    );
  });

  it('passes a check that resolves with what its work gave: rows, a reply, a response', async () => {
    const registry = new HealthRegistry(settings);
    // What `pool.query('SELECT 1')`, `redis.ping()` and `fetch()` resolve with.
    registry.register('rows', async () => ({ command: 'SELECT', rowCount: 1, rows: [{ '?column?': 1 }] }));
    registry.register('reply', async () => 'PONG');
    registry.register('response', async () => ({ status: 200, ok: true }) as never);
    registry.register('zero', () => 0);
    const evaluation = await registry.evaluate('readiness');
    expect(evaluation.status).toBe('pass');
    for (const report of Object.values(evaluation.checks)) {
      expect(Object.keys(report).sort()).toEqual(['durationMs', 'status', 'time']);
    }
  });

  it('fails a check that resolves with an HTTP response the service answered with an error', async () => {
    const registry = new HealthRegistry(settings);
    registry.register(
      'fetch503',
      async () => ({ status: 503, ok: false, statusText: 'Service Unavailable' }) as never,
    );
    registry.register('axios500', async () => ({ status: 500, data: {} }) as never);
    // @ts-expect-error an HTTP response is refused by the type: check its `ok`, or use httpProbe
    registry.register('response', async () => new Response(null, { status: 502 }));
    const evaluation = await registry.evaluate('readiness');
    expect(Object.values(evaluation.checks).map((check) => [check.status, check.output])).toEqual(
      [503, 500, 502].map((status) => ['fail', `check returned a response with status ${status}`]),
    );
  });

  it('keeps only the fields of a result, of their types: what the body shows and can serialise', async () => {
    const registry = new HealthRegistry(settings);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    registry.register('big', () => ({
      status: 'pass',
      observedValue: 12n,
      extra: { url: 'postgres://u:pw@db' },
    }));
    registry.register('huge', () => ({ status: 'pass', observedValue: 2n ** 70n, observedUnit: 'rows' }));
    registry.register(
      'odd',
      () =>
        ({
          status: 'warn',
          observedValue: Number.NaN,
          observedUnit: 3,
          output: cyclic,
        }) as never,
    );
    const evaluation = await registry.evaluate('readiness');
    expect(evaluation.checks.big).toEqual({
      status: 'pass',
      observedValue: 12,
      durationMs: expect.any(Number),
      time: expect.any(String),
    });
    expect(evaluation.checks.huge).toMatchObject({
      observedValue: '1180591620717411303424',
      observedUnit: 'rows',
    });
    expect(evaluation.checks.odd).toEqual({
      status: 'warn',
      output: '[object Object]',
      durationMs: expect.any(Number),
      time: expect.any(String),
    });
    expect(() => JSON.stringify(evaluation)).not.toThrow();
  });

  it('keeps liveness, readiness and startup checks apart', async () => {
    const registry = new HealthRegistry(settings);
    registry.register('live', () => false, { kind: 'liveness' });
    registry.register('ready', () => true);
    expect((await registry.evaluate('liveness')).status).toBe('fail');
    expect(Object.keys((await registry.evaluate('readiness')).checks)).toEqual(['ready']);
    expect(registry.has('startup')).toBe(false);
  });

  it('counts a startup check on readiness until it first passes, then never again', async () => {
    const registry = new HealthRegistry(settings);
    let warmed = false;
    const warmup = counting(() => warmed);
    registry.register('warmup', warmup, { kind: 'startup' });
    expect((await registry.evaluate('readiness')).status).toBe('fail');
    expect((await registry.evaluate('startup')).status).toBe('fail');
    warmed = true;
    expect((await registry.evaluate('readiness')).status).toBe('pass');
    warmed = false;
    expect((await registry.evaluate('readiness')).checks).toEqual({});
    expect((await registry.evaluate('startup')).checks).toEqual({});
    expect(warmup.runs).toBe(3);
  });
});

describe('HealthRegistry bounds', () => {
  it('cuts a check at its timeout, aborts its signal and reports "timed out after N ms"', async () => {
    const registry = new HealthRegistry(settings);
    let seen: AbortSignal | undefined;
    registry.register(
      'hangs',
      (signal) => {
        seen = signal;
        return new Promise(() => {});
      },
      { timeoutMs: 50 },
    );
    const started = performance.now();
    const evaluation = await registry.evaluate('readiness');
    expect(performance.now() - started).toBeLessThan(200);
    expect(evaluation.checks.hangs).toMatchObject({ status: 'fail', output: 'timed out after 50 ms' });
    expect(seen?.aborted).toBe(true);
  });

  it('answers within the budget even when a check timeout is longer', async () => {
    const registry = new HealthRegistry({ timeoutMs: 5_000, minIntervalMs: 0, budgetMs: 100 });
    registry.register('hangs', () => new Promise(() => {}));
    const started = performance.now();
    expect((await registry.evaluate('readiness')).status).toBe('fail');
    expect(performance.now() - started).toBeLessThan(300);
  });

  it('does not start a new run while a hung one is pending', async () => {
    const registry = new HealthRegistry({ timeoutMs: 20, minIntervalMs: 0, budgetMs: 500 });
    const hung = counting(() => new Promise(() => {}));
    registry.register('hung', hung);
    for (let i = 0; i < 5; i++) {
      expect((await registry.evaluate('readiness')).status).toBe('fail');
    }
    expect(hung.runs).toBe(1);
  });

  it('starts one more run once a hung one is abandoned, and no third while both hang', async () => {
    const registry = new HealthRegistry({ timeoutMs: 10, minIntervalMs: 0, budgetMs: 500 });
    const releases: (() => void)[] = [];
    const hung = counting(() => new Promise<void>((resolve) => releases.push(resolve)));
    registry.register('hung', hung);
    expect((await registry.evaluate('readiness')).status).toBe('fail');
    await delay(120); // past 10 timeouts: the first run is abandoned
    expect((await registry.evaluate('readiness')).status).toBe('fail');
    expect(hung.runs).toBe(2);
    await delay(120);
    for (let i = 0; i < 3; i++) expect((await registry.evaluate('readiness')).status).toBe('fail');
    expect(hung.runs).toBe(2);
    releases[0]?.(); // the abandoned run settles at last: room for one more
    await delay(0);
    expect((await registry.evaluate('readiness')).status).toBe('fail');
    expect(hung.runs).toBe(3);
  });
});

describe('HealthRegistry coalescing and rate limiting', () => {
  it('shares one run between concurrent evaluations', async () => {
    const registry = new HealthRegistry(settings);
    const slow = counting(() => delay(30).then(() => true));
    registry.register('slow', slow);
    const results = await Promise.all(Array.from({ length: 50 }, () => registry.evaluate('readiness')));
    expect(results.every((r) => r.status === 'pass')).toBe(true);
    expect(slow.runs).toBe(1);
    expect(new Set(results.map((r) => r.checks.slow!.time)).size).toBe(1);
  });

  it('runs a check at most once per minimum interval, whatever the request rate', async () => {
    const registry = new HealthRegistry({ ...settings, minIntervalMs: 100 });
    const check = counting(() => true);
    registry.register('db', check);
    const until = performance.now() + 350;
    let evaluations = 0;
    while (performance.now() < until) {
      await registry.evaluate('readiness');
      evaluations++;
      await delay(5);
    }
    expect(evaluations).toBeGreaterThan(30);
    expect(check.runs).toBeGreaterThanOrEqual(3);
    expect(check.runs).toBeLessThanOrEqual(4);
  });
});

describe('HealthRegistry registration', () => {
  const registry = new HealthRegistry(settings);
  registry.register('taken', () => true);

  it.each([
    ['a duplicate name', () => registry.register('taken', () => true), /already registered/],
    ['an empty name', () => registry.register('', () => true), /name of 1 to 128/],
    ['a non-function', () => registry.register('x', 'SELECT 1' as never), /needs a check function/],
    ['a negative timeout', () => registry.register('x', () => true, { timeoutMs: -1 }), /timeoutMs must be/],
    [
      'a fractional interval',
      () => registry.register('x', () => true, { minIntervalMs: 1.5 }),
      /minIntervalMs/,
    ],
    ['an unknown kind', () => registry.register('x', () => true, { kind: 'deep' as never }), /kind must be/],
    [
      'a non-boolean critical',
      () => registry.register('x', () => true, { critical: 'yes' as never }),
      /critical/,
    ],
  ])('rejects %s with a clear error', (_, register, message) => {
    expect(register).toThrow(InvalidArgumentError);
    expect(register).toThrow(message);
  });

  it('removes a check with the function register returns, freeing its name', async () => {
    const own = new HealthRegistry(settings);
    const remove = own.register('db', () => false);
    remove();
    expect(own.names).toEqual([]);
    own.register('db', () => true);
    expect((await own.evaluate('readiness')).status).toBe('pass');
  });
});

describe('HealthRegistry logging', () => {
  it('logs a status change once, not every run', async () => {
    const logs = captureLogs();
    const registry = new HealthRegistry(settings, createLogger({ service: 's', destination: logs }));
    let up = true;
    registry.register('db', () => {
      if (!up) throw new Error('connection refused');
    });
    await registry.evaluate('readiness');
    up = false;
    await registry.evaluate('readiness');
    await registry.evaluate('readiness');
    up = true;
    await registry.evaluate('readiness');
    expect(logs.lines.map((l) => [l.level, l.msg])).toEqual([
      ['error', 'health check "db" fails: connection refused'],
      ['info', 'health check "db" passes again'],
    ]);
  });

  it("masks the password of a connection string quoted in a check's error, in the log line and the report", async () => {
    const logs = captureLogs();
    const registry = new HealthRegistry(settings, createLogger({ service: 's', destination: logs }));
    registry.register('db', () => {
      throw new Error(
        'connect failed postgres://app:hunter2pass@db.internal:5432/notes (and redis://:r3dis@cache:6379)',
      );
    });
    registry.register('mail', () => {
      throw new Error('no answer from smtp://relay.internal:25 for ops@example.com');
    });
    const evaluation = await registry.evaluate('readiness');
    const masked =
      'connect failed postgres://app:[REDACTED]@db.internal:5432/notes (and redis://:[REDACTED]@cache:6379)';
    expect(evaluation.checks.db?.output).toBe(masked);
    expect(evaluation.checks.mail?.output).toBe(
      'no answer from smtp://relay.internal:25 for ops@example.com',
    );
    expect(JSON.stringify(logs.lines)).not.toContain('hunter2pass');
    expect(JSON.stringify(logs.lines)).not.toContain('r3dis');
    expect(logs.lines.find((l) => l.check === 'db')).toMatchObject({
      output: masked,
      msg: `health check "db" fails: ${masked}`,
    });
  });

  it('masks every form of a quoted password, thrown or returned as output, observedValue too', async () => {
    const logs = captureLogs();
    const registry = new HealthRegistry(settings, createLogger({ service: 's', destination: logs }));
    const forms: Record<string, [string, string]> = {
      url: ['postgres://app:hunter2@db.internal:5432/app', 'postgres://app:[REDACTED]@db.internal:5432/app'],
      atInPassword: [
        'postgres://app:hunt@r2@db.internal:5432/app',
        'postgres://app:[REDACTED]@db.internal:5432/app',
      ],
      slashInPassword: [
        'redis://default:hun/ter2@cache.internal:6379',
        'redis://default:[REDACTED]@cache.internal:6379',
      ],
      query: [
        'postgres://app@db.internal/app?password=hunter2&sslmode=require',
        'postgres://app@db.internal/app?password=[REDACTED]&sslmode=require',
      ],
      libpq: [
        'host=db user=app password=hunter2 dbname=app',
        'host=db user=app password=[REDACTED] dbname=app',
      ],
      quoted: ["host=db PASSWORD = 'hunt er2' dbname=app", 'host=db PASSWORD = [REDACTED] dbname=app'],
      jdbc: [
        'jdbc:postgresql://db.internal/app?user=app&password=hunter2',
        'jdbc:postgresql://db.internal/app?user=app&password=[REDACTED]',
      ],
      odbc: ['Server=db;Uid=app;Pwd=hunter2;', 'Server=db;Uid=app;Pwd=[REDACTED];'],
      mongoSrv: [
        'mongodb+srv://app:hunter2@cluster0.internal/app',
        'mongodb+srv://app:[REDACTED]@cluster0.internal/app',
      ],
    };
    for (const [name, [text]] of Object.entries(forms)) {
      registry.register(`thrown:${name}`, () => {
        throw new Error(`connect failed: ${text}`);
      });
      registry.register(`returned:${name}`, () => ({ status: 'fail', output: `connect failed: ${text}` }));
      registry.register(`observed:${name}`, () => ({ status: 'warn', observedValue: text }));
    }
    const { checks } = await registry.evaluate('readiness');
    for (const [name, [, expected]] of Object.entries(forms)) {
      expect(checks[`thrown:${name}`]?.output).toBe(`connect failed: ${expected}`);
      expect(checks[`returned:${name}`]?.output).toBe(`connect failed: ${expected}`);
      expect(checks[`observed:${name}`]?.observedValue).toBe(expected);
    }
    const everything = JSON.stringify([checks, logs.lines]);
    for (const leaked of ['hunter2', 'hunt@r2', 'r2@db', 'hun/ter2', 'hunt er2'])
      expect(everything).not.toContain(leaked);
  });

  it("cuts a check's error text after 4 KB, masking a password the cut falls in", async () => {
    const registry = new HealthRegistry(settings);
    // Word starts and dashes everywhere, then an `@`: quadratic for the former pattern (80 kB, 1.8 s).
    const long = `${'a-'.repeat(40_000)}@`;
    const atCut = `${'x'.repeat(4_096 - 'postgres://app:hun'.length)}postgres://app:hunter2@db`;
    registry.register('long', () => {
      throw new Error(long);
    });
    registry.register('atCut', () => ({ status: 'fail', output: atCut }));
    const { checks } = await registry.evaluate('readiness');
    expect(checks.long?.output?.length).toBe(4_096 + '… [75905 more characters cut]'.length);
    expect(checks.long?.output?.endsWith('a-a-… [75905 more characters cut]')).toBe(true);
    expect(checks.atCut?.output?.endsWith('xpostgres://app:[REDACTED]… [7 more characters cut]')).toBe(true);
    expect(checks.atCut?.output).not.toContain('hun');
  });
});

describe('HealthRegistry runs outside requests', () => {
  it('runs a check, shared by the health requests that ask, in none of theirs, and logs its change in none', async () => {
    const logs = captureLogs();
    const registry = new HealthRegistry(settings, createLogger({ service: 's', destination: logs }));
    const seen: (string | undefined)[] = [];
    registry.register('db', () => {
      seen.push(getRequestContext()?.requestId);
      throw new Error('connection refused');
    });
    await runWithRequestContext(testRequestContext('a-health-request'), () => registry.evaluate('readiness'));
    expect(seen).toEqual([undefined]);
    expect(logs.lines).toHaveLength(1);
    expect(logs.lines[0]).not.toHaveProperty('requestId');
  });
});
