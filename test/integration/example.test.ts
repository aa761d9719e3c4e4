import { afterEach, describe, expect, it } from 'vitest';
import { type ChildApp, freePort, startChild } from '../support/child.js';
import { get } from '../support/http.js';

const example = new URL('../../examples/node-http/server.mjs', import.meta.url).pathname;
let app: ChildApp | undefined;

afterEach(() => {
  app?.child.kill('SIGKILL');
  app = undefined;
});

describe('examples/node-http, run as App Runner runs it', () => {
  it('listens on PORT, serves health and the app, logs JSON, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    app = startChild(example, { PORT: String(port) });
    await app.waitForLine((l) => l.msg === `listening on port ${port}`);

    const health = await get(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect((await get(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    const hello = await get(`http://127.0.0.1:${port}/hello`, { headers: { 'x-request-id': 'ex-1' } });
    expect(JSON.parse(hello.body)).toEqual({ hello: 'world', requestId: 'ex-1' });
    await app.waitForLine((l) => l.msg === 'request completed' && l.requestId === 'ex-1');

    app.child.kill('SIGTERM');
    const { code } = await app.exited;
    expect(code).toBe(0);
    expect(app.lines.filter((l) => 'notJson' in l)).toEqual([]);
    expect(app.lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['shutdown started', 'example cleanup done', 'shutdown complete']),
    );
    expect(app.stderr()).toBe('');
  });
});
