import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { baseUrl, get } from '../../support/http.js';
import type { LogCapture } from '../../support/log-capture.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

const ok = (_req: unknown, res: { end(): void }) => res.end();

/** The level and message of each line about the check `name`. */
function linesOf(logs: LogCapture, name: string): [unknown, unknown][] {
  return logs.lines.filter((l) => l.check === name).map((l) => [l.level, l.msg]);
}

describe('health check log lines, probed over HTTP', () => {
  it("logs a startup check's rejection when its run had timed out first, and the pending run as info", async () => {
    // Arrange: lightship's queueBlockingTask, as the migration guide maps it: migrations that reject
    // after the first probe's run has timed out.
    const { runtime, logs } = await startRuntime({ app: ok, health: { exposeErrors: true } });
    let fail!: (error: Error) => void;
    const migrations = new Promise<void>((_resolve, reject) => {
      fail = reject;
    });
    runtime.health.register('migrations', () => migrations, {
      kind: 'startup',
      timeoutMs: 100,
      minIntervalMs: 0,
    });
    const url = baseUrl(runtime.server!);
    expect((await get(`${url}/readyz`)).status).toBe(503); // the run is still pending at 100 ms

    // Act
    fail(new Error('migration 42 failed'));
    await delay(20);
    const readyz = await get(`${url}/readyz`);
    for (let i = 0; i < 3; i++) await get(`${url}/startupz`);

    // Assert: the body says why, and so does the log, once; the pending run was no error.
    expect(readyz.status).toBe(503);
    expect(JSON.parse(readyz.body).checks.migrations[0].output).toBe('migration 42 failed');
    expect(linesOf(logs, 'migrations')).toEqual([
      ['info', 'health check "migrations" has not passed yet: still running (timed out after 100 ms)'],
      ['error', 'health check "migrations" fails: migration 42 failed'],
    ]);
  });

  it('writes no error line for a startup check that passes after its timeout', async () => {
    const { runtime, logs } = await startRuntime({ app: ok });
    let done!: () => void;
    const warmUp = new Promise<void>((resolve) => {
      done = resolve;
    });
    runtime.health.register('warm-up', () => warmUp, { kind: 'startup', timeoutMs: 50, minIntervalMs: 0 });
    const url = baseUrl(runtime.server!);
    expect((await get(`${url}/startupz`)).status).toBe(503);
    expect((await get(`${url}/startupz`)).status).toBe(503);
    done();
    await delay(20);
    expect((await get(`${url}/startupz`)).status).toBe(200);
    expect(linesOf(logs, 'warm-up')).toEqual([
      ['info', 'health check "warm-up" has not passed yet: still running (timed out after 50 ms)'],
      ['info', 'health check "warm-up" passes'],
    ]);
  });

  it('logs each new error of a failing check once, however the errors alternate, and a few at most', async () => {
    const { runtime, logs } = await startRuntime({ app: ok });
    let errors = ['connect ECONNREFUSED 127.0.0.1:5432', 'timeout expired'];
    let run = 0;
    runtime.health.register(
      'db',
      () => {
        throw new Error(errors[run++ % errors.length]);
      },
      { minIntervalMs: 0 },
    );
    const url = baseUrl(runtime.server!);
    // A flapping dependency: its two errors alternate on every probe.
    for (let i = 0; i < 10; i++) expect((await get(`${url}/readyz`)).status).toBe(503);
    expect(linesOf(logs, 'db')).toEqual([
      ['error', 'health check "db" fails: connect ECONNREFUSED 127.0.0.1:5432'],
      ['error', 'health check "db" fails: timeout expired'],
    ]);

    // An error whose text changes every run: 5 distinct ones in all, then one line that says so.
    errors = Array.from({ length: 20 }, (_, i) => `query ${i} failed`);
    run = 0;
    for (let i = 0; i < 20; i++) await get(`${url}/readyz`);
    const lines = linesOf(logs, 'db');
    expect(lines).toHaveLength(6);
    expect(lines.slice(2, 5).map(([, msg]) => msg)).toEqual([
      'health check "db" fails: query 0 failed',
      'health check "db" fails: query 1 failed',
      'health check "db" fails: query 2 failed',
    ]);
    expect(lines[5]).toEqual([
      'warn',
      'health check "db" keeps failing with errors that change: no more of them are logged until its status changes',
    ]);
  });
});
