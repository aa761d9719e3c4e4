import { afterEach, describe, expect, it } from 'vitest';
import { type ChildApp, freePort, startChild } from '../../support/child.js';
import { get } from '../../support/http.js';
import { keepAliveLoad } from '../../support/load.js';

const fixture = new URL('../../fixtures/cluster-app.mjs', import.meta.url).pathname;

/** A cluster app: its primary heads a process group of its own, so that a test can end it whole. */
interface ClusterApp extends ChildApp {
  readonly port: number;
  readonly url: string;
  /** Messages of the lines written so far. */
  readonly messages: () => string[];
}

const running = new Set<ClusterApp>();

afterEach(() => {
  for (const app of running) {
    try {
      process.kill(-app.child.pid!, 'SIGKILL');
    } catch {
      // The group ended already.
    }
  }
  running.clear();
});

/** Starts the fixture and waits until `listening` workers listen. */
async function startCluster(
  env: Record<string, string>,
  listening = Number(env.WORKERS),
  fifo = false,
): Promise<ClusterApp> {
  const port = await freePort();
  const child = startChild(fixture, { PORT: String(port), ...env }, [], { detached: true, fifo });
  const messages = () => child.lines.map((line) => String(line.msg));
  const app: ClusterApp = { ...child, port, url: `http://127.0.0.1:${port}`, messages };
  running.add(app);
  await waitFor(() => listeners(app) >= listening, app);
  return app;
}

const listeners = (app: ClusterApp) => app.messages().filter((m) => m.startsWith('listening on port')).length;

/** Polls `condition` every 20 ms, for 8 s at most. */
async function waitFor(condition: () => boolean, app: ClusterApp): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`condition not met; stdout: ${JSON.stringify(app.lines)}; stderr: ${app.stderr()}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a cluster app stopped by a SIGTERM to its primary, under keep-alive load of 300 ms requests', () => {
  it.each([
    { primary: 'kit', dropped: false },
    { primary: 'fork', dropped: true },
  ])(
    'drops requests in flight: $dropped, with a primary of kind "$primary"',
    async ({ primary, dropped }) => {
      const app = await startCluster({ PRIMARY: primary, WORKERS: '2' });
      const exited = app.exited;
      const load = keepAliveLoad(app.port, {
        connections: 16,
        until: exited,
        maxMs: 8_000,
        path: '/slow?ms=300',
      });
      // Past the first round: the requests in flight at the signal were sent on open connections.
      await sleep(450);
      const signalledAt = performance.now();
      app.child.kill('SIGTERM');
      const report = await load;
      const { code, signal, at } = await exited;
      const summary = JSON.stringify({ ...report, outcomes: report.outcomes.length, code, signal });

      if (dropped) {
        // The defect: the primary dies on the signal, and each worker with its IPC channel.
        expect(signal, summary).toBe('SIGTERM');
        expect(report.failedOnOpenConnections, summary).toBeGreaterThan(0);
        expect(app.messages()).not.toContain('shutdown complete');
        return;
      }
      expect(report.failedOnOpenConnections, summary).toBe(0);
      expect(report.succeeded, summary).toBeGreaterThanOrEqual(32);
      expect(code).toBe(0);
      expect(at - signalledAt).toBeLessThan(5_000);
      const messages = app.messages();
      // Each worker drained as the kit does.
      expect(messages.filter((m) => m === 'received SIGTERM')).toHaveLength(2);
      expect(messages.filter((m) => m === 'shutdown complete')).toHaveLength(2);
      expect(messages.filter((m) => /^worker \d+ exited with code 0$/.test(m))).toHaveLength(2);
      expect(app.lines.find((l) => l.msg === 'cluster stopping')).toMatchObject({
        reason: 'SIGTERM',
        timeoutMs: 22_000,
      });
      const last = app.lines.at(-1)!;
      expect(last).toMatchObject({ level: 'info', msg: 'cluster stopped', exitCode: 0 });
      // The primary writes the kit's lines, as its workers do.
      const workerLine = app.lines.find((l) => l.msg === 'shutdown complete')!;
      const head = (line: Record<string, unknown>) => {
        const keys = Object.keys(line);
        return {
          keys: keys.slice(0, keys.indexOf('instance') + 1),
          service: line.service,
          version: line.version,
        };
      };
      expect(head(last)).toEqual(head(workerLine));
      expect(head(last).keys.slice(0, 3)).toEqual(['level', 'time', 'service']);
      // Each worker's lines say which it is, after the instance they share; the primary's, none.
      const workers = app.lines.filter((l) => l.msg === 'shutdown complete').map((l) => l.worker);
      expect(workers.every((id) => Number.isInteger(id))).toBe(true);
      expect(new Set(workers).size).toBe(2);
      expect(Object.keys(workerLine).indexOf('worker')).toBe(Object.keys(workerLine).indexOf('instance') + 1);
      expect(last.worker).toBeUndefined();
      expect(messages.some((m) => m.includes("primary is not the kit's runCluster"))).toBe(false);
    },
    15_000,
  );
});

describe('runCluster', () => {
  it('restarts a worker that exits while running, not one that exits while stopping; waits for the budget the workers report', async () => {
    const app = await startCluster({ WORKERS: '2', TIMEOUT_MS: '25000' });
    expect((await get(`${app.url}/exit?code=3`)).body).toBe('exiting');
    await waitFor(() => listeners(app) === 3, app);
    expect(
      app.lines.find((l) => String(l.msg).endsWith('exited with code 3 while running: forking another')),
    ).toMatchObject({
      level: 'error',
      code: 3,
    });

    app.child.kill('SIGTERM');
    const { code } = await app.exited;
    expect(code).toBe(0);
    const messages = app.messages();
    const stopping = messages.indexOf('cluster stopping');
    expect(app.lines[stopping]).toMatchObject({ timeoutMs: 27_000 });
    expect(messages.slice(stopping).filter((m) => m.includes('forking another'))).toEqual([]);
    expect(messages.slice(stopping).filter((m) => /^worker \d+ exited with code 0$/.test(m))).toHaveLength(2);
    expect(listeners(app)).toBe(3);
  }, 15_000);

  it("passes its workers' lines on whole: lines longer than PIPE_BUF from two workers never split around each other on stdout's pipe", async () => {
    const app = await startCluster({ WORKERS: '2', BIG_LINES: '1000' }, 2, true);
    await waitFor(() => app.messages().filter((m) => m === 'big lines written').length === 2, app);
    app.child.kill('SIGTERM');
    const { code } = await app.exited;
    expect(code).toBe(0);
    expect(app.lines.filter((l) => 'notJson' in l).length).toBe(0);
    const big = app.lines.filter((l) => l.msg === 'big line');
    expect(big).toHaveLength(2000);
    expect(big.every((l) => l.truncated === true && typeof l.n === 'number')).toBe(true);
    // The workers' last lines were passed on before the primary's last.
    expect(app.messages().filter((m) => m === 'shutdown complete')).toHaveLength(2);
    expect(app.messages().at(-1)).toBe('cluster stopped');
  }, 15_000);

  it('passes on the stdout of a worker the app forks itself too', async () => {
    const app = await startCluster({ WORKERS: '1', APP_FORK: '1' }, 1, true);
    await waitFor(() => app.messages().includes("app's own worker"), app);
  });

  it('exits 0 when stopped while its workers are still loading: dying of the signal is their clean end', async () => {
    const app = await startCluster({ WORKERS: '2', START_DELAY_MS: '5000' }, 0);
    await waitFor(() => app.messages().some((m) => m.startsWith('cluster primary')), app);
    await sleep(300);
    app.child.kill('SIGTERM');
    const { code } = await app.exited;
    expect(code).toBe(0);
    expect(
      app.messages().filter((m) => /^worker \d+ exited on SIGTERM before it had started/.test(m)),
    ).toHaveLength(2);
    expect(app.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('stops restarting, stops the others and exits 1 when workers keep exiting', async () => {
    const app = await startCluster({ WORKERS: '2', CRASH_AT_START: '1', MAX_RESTARTS: '3' }, 0);
    const { code } = await app.exited;
    expect(code).toBe(1);
    const why = app.lines.find((l) => String(l.msg).includes('more than maxRestarts'));
    expect(why, JSON.stringify(app.lines)).toMatchObject({
      level: 'error',
      exits: 4,
      restartWindowMs: 60_000,
    });
    expect(String(why?.msg)).toContain('not restarting, stopping the others and exiting 1');
    expect(app.messages().filter((m) => m.endsWith('while running: forking another'))).toHaveLength(3);
    expect(app.lines.at(-1)).toMatchObject({ msg: 'cluster stopped', exitCode: 1 });
  }, 15_000);

  it('kills a worker still running at timeoutMs, and exits 1', async () => {
    const app = await startCluster({
      WORKERS: '2',
      HANG_HOOK: '1',
      TIMEOUT_MS: '30000',
      CLUSTER_TIMEOUT_MS: '1000',
    });
    const signalledAt = performance.now();
    app.child.kill('SIGTERM');
    const { code, at } = await app.exited;
    expect(code).toBe(1);
    expect(at - signalledAt).toBeGreaterThanOrEqual(950);
    expect(at - signalledAt).toBeLessThan(5_000);
    const killed = app.lines.filter((l) =>
      String(l.msg).includes('still running 1000 ms after the stop began: killed'),
    );
    expect(killed).toHaveLength(2);
    expect(app.messages().filter((m) => /^worker \d+ exited on SIGKILL$/.test(m))).toHaveLength(2);
    expect(app.lines.at(-1)).toMatchObject({ msg: 'cluster stopped', exitCode: 1 });
    // Said at start, once: the workers' budget (30 s) is past the primary's.
    const below = app.lines.filter((l) =>
      String(l.msg).startsWith("runCluster's timeoutMs (1000 ms) is not above"),
    );
    expect(below).toHaveLength(1);
    expect(below[0]).toMatchObject({ level: 'warn', timeoutMs: 1000, workerShutdownTimeoutMs: 30_000 });
  }, 15_000);

  it('forwards a later second signal, and the workers exit at once', async () => {
    const app = await startCluster({ WORKERS: '2', HANG_HOOK: '1', TIMEOUT_MS: '30000' });
    app.child.kill('SIGTERM');
    await waitFor(() => app.messages().filter((m) => m === 'shutdown started').length === 2, app);
    await sleep(200);
    const secondAt = performance.now();
    app.child.kill('SIGTERM');
    const { code, at } = await app.exited;
    expect(code).toBe(1);
    expect(at - secondAt).toBeLessThan(3_000);
    expect(app.lines.find((l) => l.msg === 'cluster stopping')).toMatchObject({ timeoutMs: 32_000 });
    expect(app.messages()).toContain(
      'received a second SIGTERM: forwarding it again, and the workers exit at once',
    );
    expect(app.messages().filter((m) => /^worker \d+ exited with code 1$/.test(m))).toHaveLength(2);
  }, 15_000);

  it('takes Ctrl+C, which reaches the primary and its workers alike, for one signal: the workers drain', async () => {
    // A shorter budget than the default, reported by the workers: the primary waits for it, and 2 s.
    const app = await startCluster({ WORKERS: '2', TIMEOUT_MS: '5000' });
    const inFlight = [get(`${app.url}/slow?ms=500`), get(`${app.url}/slow?ms=500`)];
    await sleep(100);
    // The terminal signals the whole process group; the primary forwards its own copy.
    process.kill(-app.child.pid!, 'SIGINT');
    const responses = await Promise.all(inFlight);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    const { code } = await app.exited;
    expect(code, JSON.stringify(app.lines)).toBe(0);
    expect(app.messages().filter((m) => m === 'shutdown complete')).toHaveLength(2);
    expect(app.messages().filter((m) => /^worker \d+ exited with code 0$/.test(m))).toHaveLength(2);
    expect(app.lines.find((l) => l.msg === 'cluster stopping')).toMatchObject({
      reason: 'SIGINT',
      timeoutMs: 7_000,
    });
  }, 15_000);
});

describe("a worker of a primary that is not the kit's", () => {
  it('warns at start, naming the problem and the fix', async () => {
    const app = await startCluster({ PRIMARY: 'fork', WORKERS: '1', RUN_CLUSTER_IN_WORKER: '1' });
    const warning = await app.waitForLine((l) =>
      String(l.msg).includes("primary is not the kit's runCluster"),
    );
    expect(warning).toMatchObject({ level: 'warn', primaryPid: app.child.pid });
    expect(String(warning.msg)).toContain('the drain never runs and the requests in flight are dropped');
    expect(String(warning.msg)).toContain('Call runCluster() in the primary');
    expect(String(warning.msg)).toContain('forward SIGTERM to each worker and wait for them to exit');
    // runCluster belongs in the primary.
    expect(app.lines.find((l) => l.msg === 'runCluster refused')).toMatchObject({
      code: 'ARK_CONFIG_INVALID',
      message: expect.stringContaining(
        'runCluster was called in a cluster worker: call it in the primary only',
      ),
    });
  });

  it("under pm2, runCluster says to use pm2's cluster mode; its workers, whose parent is not pm2, say nothing of pm2", async () => {
    const app = await startCluster({ WORKERS: '2', pm_id: '0', wait_ready: 'true' });
    const warnings = app.lines.filter((l) => l.level === 'warn').map((l) => String(l.msg));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^runCluster runs under pm2.*use pm2's own cluster mode/);
  });

  it('is not written under PM2, whose daemon signals each worker itself', async () => {
    // pm2's kill_timeout set long enough: the kit's other warning under pm2 is not this test's.
    const app = await startCluster({ PRIMARY: 'fork', WORKERS: '1', pm_id: '0', kill_timeout: '30000' });
    expect(app.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });
});
