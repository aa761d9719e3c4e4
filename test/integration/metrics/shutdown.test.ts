import { Agent } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { killApps, startApp } from '../../support/app-process.js';
import { startChild } from '../../support/child.js';
import { parseEmf, sumOf, withDimensions } from '../../support/emf.js';
import { get } from '../../support/http.js';

const fixture = new URL('../../fixtures/metrics/app.mjs', import.meta.url).pathname;

afterEach(killApps);

const isEmf = (line: Record<string, unknown>) => '_aws' in line;

describe('metrics of a process that stops', () => {
  it('writes every request of the last interval on SIGTERM, in-flight ones included, before the logger flush', async () => {
    const app = await startApp(fixture);
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    for (let i = 0; i < 200; i++)
      expect((await get(`${app.url}/items/${i}`, { agent })).status).toBeOneOf([200, 404]);
    const slow = Array.from({ length: 10 }, () => get(`${app.url}/work?ms=400`, { agent }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    app.signal('SIGTERM');
    const answered = await Promise.all(slow);
    expect(answered.every((response) => response.status === 200 && response.body === 'done')).toBe(true);
    const { code } = await app.exit();
    agent.destroy();
    expect(code).toBe(0);

    // Every stdout line is whole JSON: EMF lines never cut into log lines.
    expect(app.lines.filter((line) => 'notJson' in line)).toEqual([]);
    const raw = app.lines.filter(isEmf);
    const documents = raw.map((line) => parseEmf(JSON.stringify(line)));
    const items = withDimensions(documents, { Route: '/items/:id', Method: 'GET' });
    expect(sumOf(items, 'Requests')).toBe(200);
    expect(sumOf(items, '4xxStatusResponses')).toBe(20);
    expect(sumOf(withDimensions(documents, { Route: '/work' }), 'Requests')).toBe(10);
    expect(sumOf(documents, 'WorkDone')).toBe(10);
    expect(sumOf(documents, 'InFlightPeak')).toBeGreaterThanOrEqual(10);
    // Flushed as a final step of the shutdown, before it completes.
    const lastMetric = app.lines.findLastIndex(isEmf);
    const complete = app.lines.findIndex((line) => line.msg === 'shutdown complete');
    expect(lastMetric).toBeGreaterThan(-1);
    expect(lastMetric).toBeLessThan(complete);
  });

  it('writes them when the shutdown runs out of time too: the final steps keep the end of the deadline', async () => {
    const app = await startApp(fixture, { TIMEOUT_MS: '1000' });
    for (let i = 1; i <= 30; i++) await get(`${app.url}/items/${i}`);
    const hanging = get(`${app.url}/work?ms=60000`).catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    app.signal('SIGTERM');
    const { code, elapsedMs } = await app.exit();
    expect(code).toBe(1);
    expect(elapsedMs).toBeLessThan(1_500);
    expect(await hanging).toBeInstanceOf(Error);
    expect(app.lines.find((line) => String(line.msg).startsWith('shutdown timed out'))?.msg).toMatch(
      /^shutdown timed out after 800 ms/,
    );
    // The deadline once skipped every final step: the interval's metrics (and spans) were lost.
    const documents = app.lines.filter(isEmf).map((line) => parseEmf(JSON.stringify(line)));
    expect(sumOf(withDimensions(documents, { Route: '/items/:id' }), 'Requests')).toBe(30);
  });

  it('flushes on the interval while serving, and loses nothing across intervals', async () => {
    const app = await startApp(fixture, { FLUSH_MS: '200' });
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    for (let i = 0; i < 50; i++) await get(`${app.url}/items/${i}`, { agent });
    await app.waitForLine((line) => isEmf(line) && line.Route === '/items/:id', 3_000);
    for (let i = 0; i < 50; i++) await get(`${app.url}/items/${i}`, { agent });
    await new Promise((resolve) => setTimeout(resolve, 300));
    app.signal('SIGTERM');
    expect((await app.exit()).code).toBe(0);
    agent.destroy();
    const documents = app.lines.filter(isEmf).map((line) => parseEmf(JSON.stringify(line)));
    const items = withDimensions(documents, { Route: '/items/:id' });
    expect(items.length).toBeGreaterThanOrEqual(2);
    expect(sumOf(items, 'Requests')).toBe(100);
  });

  it('keeps no timer alive, and writes what is left when the process ends by itself', async () => {
    const child = startChild(fixture, { NO_APP: '1', FLUSH_MS: '60000' });
    const exited = await Promise.race([
      child.exited,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5_000)),
    ]);
    if (exited === undefined) child.child.kill('SIGKILL');
    expect(exited?.code).toBe(0);
    const documents = child.lines.filter(isEmf).map((line) => parseEmf(JSON.stringify(line)));
    expect(sumOf(documents, 'ScriptRuns')).toBe(3);
  });
});
