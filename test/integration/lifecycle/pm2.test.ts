// The kit under pm2: the test plays pm2, starting the app with an IPC channel and the variables pm2 7
// sets (checked against pm2 itself: pm_id, PM2_HOME, kill_timeout, shutdown_with_message, wait_ready).
import { afterEach, describe, expect, it } from 'vitest';
import { type ChildApp, freePort, startChild } from '../../support/child.js';
import { get } from '../../support/http.js';

const fixture = new URL('../../fixtures/pm2-app.mjs', import.meta.url).pathname;

interface Pm2Child extends ChildApp {
  readonly port: number;
  readonly url: string;
  /** The IPC messages the app sent. */
  readonly messages: unknown[];
  /** Resolves once the app's listening line is written. */
  listening(): Promise<unknown>;
}

const children: ChildApp[] = [];
afterEach(() => {
  for (const app of children.splice(0)) app.child.kill('SIGKILL');
});

/** Starts the fixture as pm2 forks an app: an IPC channel, pm2's variables. */
async function startAsPm2(env: Record<string, string>): Promise<Pm2Child> {
  const port = await freePort();
  const app = startChild(
    fixture,
    { PORT: String(port), pm_id: '0', PM2_HOME: '/home/app/.pm2', kill_timeout: '30000', ...env },
    [],
    { ipc: true },
  );
  children.push(app);
  const messages: unknown[] = [];
  app.child.on('message', (message) => messages.push(message));
  const listening = () => app.waitForLine((l) => l.msg === `listening on port ${port}`);
  return { ...app, port, url: `http://127.0.0.1:${port}`, messages, listening };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The exit, or `'still running'` after `ms`. */
const exitWithin = (app: ChildApp, ms: number) =>
  Promise.race([
    app.exited.then(({ code, signal }) => ({ code, signal })),
    sleep(ms).then(() => 'still running'),
  ]);

describe('under pm2 with shutdown_with_message', () => {
  it("drains on pm2's shutdown message as on a signal: the request in flight is answered, exit 0", async () => {
    const app = await startAsPm2({ shutdown_with_message: 'true' });
    await app.listening();
    const slow = get(`${app.url}/slow?ms=800`);
    await sleep(100);
    app.child.send('shutdown');
    const response = await slow;
    expect(response.status).toBe(200);
    expect(response.body).toBe('slow-800');
    expect(await exitWithin(app, 5_000)).toEqual({ code: 0, signal: null });
    expect(app.lines.find((l) => l.msg === "received pm2's shutdown message")).toBeDefined();
    expect(app.lines.find((l) => l.msg === 'shutdown complete')?.reason).toBe('pm2 shutdown message');
  });

  it('drains a server given to runtime.manageServer on the message too', async () => {
    const app = await startAsPm2({ shutdown_with_message: 'true', MODE: 'manual' });
    await app.listening();
    const slow = get(`${app.url}/slow?ms=500`);
    await sleep(100);
    app.child.send('shutdown');
    expect((await slow).status).toBe(200);
    expect(await exitWithin(app, 5_000)).toEqual({ code: 0, signal: null });
    expect(app.lines.find((l) => l.msg === 'shutdown complete')?.reason).toBe('pm2 shutdown message');
  });

  it('keeps no process alive by listening: a script with no server ends by itself', async () => {
    const app = await startAsPm2({ shutdown_with_message: 'true', MODE: 'none' });
    expect(await exitWithin(app, 3_000)).toEqual({ code: 0, signal: null });
    expect(app.lines.find((l) => l.msg === 'script done')).toBeDefined();
  });

  it('lets the process end by itself after the shutdown, with shutdown.exit false', async () => {
    const app = await startAsPm2({ shutdown_with_message: 'true', NO_EXIT: '1' });
    await app.listening();
    app.child.send('shutdown');
    expect(await exitWithin(app, 3_000)).toEqual({ code: 0, signal: null });
    expect(app.lines.find((l) => l.msg === 'shutdown complete')).toBeDefined();
  });

  it('ignores the message without shutdown_with_message (pm2 then sends a signal)', async () => {
    const app = await startAsPm2({});
    await app.listening();
    app.child.send('shutdown');
    await sleep(300);
    expect((await get(`${app.url}/fast`)).body).toBe('ok');
    expect(app.lines.find((l) => l.msg === "received pm2's shutdown message")).toBeUndefined();
    app.child.kill('SIGINT');
    expect(await exitWithin(app, 5_000)).toEqual({ code: 0, signal: null });
  });
});

describe('under pm2 with wait_ready', () => {
  it("sends 'ready' once the server listens", async () => {
    const app = await startAsPm2({ wait_ready: 'true' });
    await app.listening();
    for (let i = 0; i < 100 && app.messages.length === 0; i++) await sleep(20);
    expect(app.messages).toEqual(['ready']);
    // Already listening: pm2 counts it online (and, on a reload, stops the old process) from now.
    expect((await get(`${app.url}/healthz`)).status).toBe(200);
  });

  it('sends nothing without wait_ready', async () => {
    const app = await startAsPm2({});
    await app.listening();
    await sleep(200);
    expect(app.messages).toEqual([]);
  });
});
