import { execFile } from 'node:child_process';
import { Agent } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AppRunnerRuntime, bootstrapAppRunner } from '../../../src/index.js';
import { killApps, startApp } from '../../support/app-process.js';
import { baseUrl, get } from '../../support/http.js';
import { captureLogs } from '../../support/log-capture.js';

const nodeTestFile = new URL('../../fixtures/test-runners/node-shutdown.test.mjs', import.meta.url).pathname;
const shutdownApp = new URL('../../fixtures/shutdown-app.mjs', import.meta.url).pathname;

const ok = (_req: unknown, res: { end(body: string): void }) => res.end('ok');
const started: AppRunnerRuntime[] = [];

afterEach(async () => {
  killApps();
  vi.restoreAllMocks();
  await Promise.all(started.splice(0).map((runtime) => runtime.shutdown('test ended')));
});

/** `node ...args` in a minimal environment: its exit code and output. */
function runNode(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { env: { PATH: process.env.PATH ?? '' }, timeout: 15_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : ((error as { code?: number }).code ?? null),
          output: stdout + stderr,
        });
      },
    );
  });
}

describe("in Vitest's worker", () => {
  it('leaves the process running after runtime.shutdown(), handles no signal, and says so once', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => undefined as never);
    const sigterm = process.listenerCount('SIGTERM');
    const logs = captureLogs();
    const runtime = await bootstrapAppRunner({ app: ok, port: 0, env: {}, logging: { destination: logs } });
    started.push(runtime);
    expect(process.listenerCount('SIGTERM')).toBe(sigterm);
    expect(runtime.config.shutdown).toMatchObject({ signals: [], idleGraceMs: 0 });
    const notes = logs.lines.filter((line) => line.testRunner !== undefined);
    expect(notes).toEqual([
      expect.objectContaining({
        level: 'info',
        testRunner: 'Vitest',
        shutdown: { exit: false, signals: [], idleGraceMs: 0 },
      }),
    ]);
    expect(notes[0]!.msg).toContain('set shutdown.exit, shutdown.signals, shutdown.idleGraceMs to choose');

    const result = await runtime.shutdown('tests done');

    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(runtime.state).toBe('stopped');
    expect(exit).not.toHaveBeenCalled();
  });

  it('runs two runtimes side by side with the defaults, and closes an idle keep-alive socket at once', async () => {
    const first = await bootstrapAppRunner({ app: ok, port: 0, env: {}, logging: { level: 'silent' } });
    started.push(first);
    const second = await bootstrapAppRunner({ app: ok, port: 0, env: {}, logging: { level: 'silent' } });
    started.push(second);
    const agent = new Agent({ keepAlive: true });
    try {
      expect((await get(`${baseUrl(first.server!)}/`, { agent })).status).toBe(200);
      expect((await get(`${baseUrl(second.server!)}/`, { agent })).status).toBe(200);
      const closing = [await first.shutdown('tests done'), await second.shutdown('tests done')];
      // With the production default, each waited out the second of idle grace.
      for (const result of closing) expect(result.durationMs).toBeLessThan(500);
    } finally {
      agent.destroy();
    }
  });

  it('keeps each setting given', async () => {
    const exit = vi.fn();
    const logs = captureLogs();
    const runtime = await bootstrapAppRunner({
      app: ok,
      port: 0,
      env: {},
      logging: { destination: logs },
      shutdown: { exit, signals: ['SIGUSR2'], idleGraceMs: 200, handleProcessErrors: false },
    });
    started.push(runtime);
    expect(logs.lines.filter((line) => line.testRunner !== undefined)).toEqual([]);
    expect(runtime.config.shutdown).toMatchObject({ signals: ['SIGUSR2'], idleGraceMs: 200 });
    await runtime.shutdown('tests done');
    expect(exit).toHaveBeenCalledExactlyOnceWith(0);
  });
});

describe('node:test', () => {
  it('reports the test that fails after one that shut the runtime down, under node --test and node', async () => {
    // The runner may count the file itself as failed too (seen when a log line of it came after its
    // results): fail 2.
    const underRunner = await runNode(['--test', '--test-reporter=tap', nodeTestFile]);
    expect(underRunner.output).toMatch(/^# pass 1$/m);
    expect(underRunner.output).toMatch(/^ *not ok \d+ - fails after it$/m);
    expect(underRunner.output).toMatch(/^# fail [12]$/m);
    expect(underRunner.code).toBe(1);

    const alone = await runNode(['--test-reporter=tap', nodeTestFile]);
    expect(alone.output).toMatch(/^not ok 2 - fails after it$/m);
    expect(alone.output).toMatch(/^# fail 1$/m);
    expect(alone.code).toBe(1);
  });
});

describe('an app a test spawns', () => {
  it("exits at the end of its shutdown, with the runners' variables it inherited", async () => {
    const app = await startApp(shutdownApp, {
      VITEST: 'true',
      VITEST_WORKER_ID: '1',
      JEST_WORKER_ID: '1',
      NODE_TEST_CONTEXT: 'child-v8',
      NODE_ENV: 'test',
    });
    const since = performance.now();
    await get(`${app.url}/shutdown`);
    const { code } = await app.exit(since);
    expect(code).toBe(0);
    expect(app.lines.filter((line) => line.testRunner !== undefined)).toEqual([]);
  });
});
