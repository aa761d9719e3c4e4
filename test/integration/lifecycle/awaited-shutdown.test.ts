import { connect } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { killApps, startApp } from '../../support/app-process.js';
import { get } from '../../support/http.js';
import { streamOf } from '../../support/http2.js';
import { testTls } from '../../support/tls.js';

const fixture = new URL('../../fixtures/shutdown-app.mjs', import.meta.url).pathname;

afterEach(killApps);

const awaitedWarning = (line: Record<string, unknown>) =>
  String(line.msg).startsWith('runtime.shutdown() is awaited in request');
const awaitedInWork = (line: Record<string, unknown>) =>
  String(line.msg).startsWith('runtime.shutdown() is awaited in tracked work');
const timedOutLine = (line: Record<string, unknown>) =>
  String(line.msg).startsWith('shutdown timed out after');

describe('runtime.shutdown() awaited inside a request', () => {
  it('says, as the request awaits it, that the drain waits for that request until the deadline, and names it at the deadline', async () => {
    // timeoutMs 2000: the drain's part ends at 1600 ms (a fifth kept for the final steps).
    const app = await startApp(fixture, { TIMEOUT_MS: '2000' });
    const calledAt = performance.now();
    const answer = get(`${app.url}/shutdown-awaited?token=secret`, {
      method: 'POST',
      headers: { 'x-request-id': 'admin-stop-1' },
    }).catch((error: Error) => error);

    const warning = await app.waitForLine(awaitedWarning, 1_000);
    const warnedMs = performance.now() - calledAt;
    const { code, elapsedMs } = await app.exit(calledAt);

    expect(warnedMs).toBeLessThan(1_000); // when the request awaits, not at the deadline
    expect(warning).toMatchObject({
      level: 'warn',
      requestId: 'admin-stop-1',
      method: 'POST',
      path: '/shutdown-awaited',
      timeoutMs: 2000,
    });
    expect(warning.msg).toContain('POST /shutdown-awaited (requestId admin-stop-1)');
    expect(warning.msg).toContain('the drain waits for that request');
    expect(warning.msg).toContain('void runtime.shutdown()');
    expect(warning.msg).not.toContain('secret');
    const timedOut = app.lines.find((l) => String(l.msg).startsWith('shutdown timed out after'));
    expect(timedOut).toMatchObject({
      awaitingShutdown: [{ requestId: 'admin-stop-1', method: 'POST', path: '/shutdown-awaited' }],
    });
    expect(timedOut!.msg).toContain(
      'request POST /shutdown-awaited (requestId admin-stop-1) awaits runtime.shutdown()',
    );
    // The kit keeps its word to wait for every request: the deadline ends the wait, and the request.
    expect(await answer).toBeInstanceOf(Error);
    expect(code).toBe(1);
    expect(elapsedMs).toBeGreaterThanOrEqual(1_500);
    expect(elapsedMs).toBeLessThan(3_000);
  });

  it.each([
    ['answers, then calls it without awaiting', '/shutdown'],
    ['answers, then awaits it', '/shutdown-answered'],
    ['chains a callback on it, then answers', '/shutdown-then'],
  ])('says nothing of a request that %s, and exits 0 at once', async (_case, path) => {
    const app = await startApp(fixture, { TIMEOUT_MS: '2000' });
    const calledAt = performance.now();
    const answer = await get(`${app.url}${path}`);
    const { code, elapsedMs } = await app.exit(calledAt);

    expect(answer.status).toBe(200);
    expect(code).toBe(0);
    expect(elapsedMs).toBeLessThan(1_000);
    expect(app.lines.filter(awaitedWarning)).toEqual([]);
    expect(app.lines.find((l) => String(l.msg).startsWith('shutdown timed out'))).toBeUndefined();
  });
});

describe('runtime.shutdown() awaited inside an HTTP/2 request', () => {
  it('says so as the request awaits it, and names it at the deadline, as over HTTP/1', async () => {
    const app = await startApp(fixture, { TIMEOUT_MS: '2000', SECOND_SERVER: 'h2' });
    const { port } = await app.waitForLine((l) => l.msg === 'second server listening');
    const session = connect(`https://localhost:${port as number}`, { ca: testTls.cert });
    session.on('error', () => {}); // cut at the deadline
    const calledAt = performance.now();
    const answer = streamOf(session, '/shutdown-awaited', {
      ':method': 'POST',
      'x-request-id': 'h2-stop-1',
    });

    const warning = await app.waitForLine(awaitedWarning, 1_000);
    const warnedMs = performance.now() - calledAt;
    const { code, elapsedMs } = await app.exit(calledAt);
    session.destroy();

    expect(warnedMs).toBeLessThan(1_000);
    expect(warning).toMatchObject({
      level: 'warn',
      requestId: 'h2-stop-1',
      method: 'POST',
      path: '/shutdown-awaited',
      timeoutMs: 2000,
    });
    expect(warning.msg).toContain('POST /shutdown-awaited (requestId h2-stop-1)');
    expect(app.lines.find(timedOutLine)).toMatchObject({
      awaitingShutdown: [{ requestId: 'h2-stop-1', method: 'POST', path: '/shutdown-awaited' }],
    });
    expect((await answer).status).toBeUndefined(); // cut at the deadline: no answer
    expect(code).toBe(1);
    expect(elapsedMs).toBeGreaterThanOrEqual(1_500);
  });

  it('says nothing of an HTTP/2 request that answers, then awaits it', async () => {
    const app = await startApp(fixture, { TIMEOUT_MS: '2000', SECOND_SERVER: 'h2' });
    const { port } = await app.waitForLine((l) => l.msg === 'second server listening');
    const session = connect(`https://localhost:${port as number}`, { ca: testTls.cert });
    session.on('error', () => {});
    const calledAt = performance.now();
    expect(await streamOf(session, '/shutdown-answered')).toMatchObject({ status: 200, body: 'stopping' });
    const { code, elapsedMs } = await app.exit(calledAt);
    session.destroy();

    expect(code).toBe(0);
    expect(elapsedMs).toBeLessThan(1_000);
    expect(app.lines.filter(awaitedWarning)).toEqual([]);
  });
});

describe('runtime.shutdown() awaited inside tracked work (runtime.track)', () => {
  it('says so as the work awaits it, naming the task, and names it at the deadline', async () => {
    const app = await startApp(fixture, { TIMEOUT_MS: '2000' });
    const calledAt = performance.now();
    expect((await get(`${app.url}/track-awaits-shutdown`)).body).toBe('tracked');

    const warning = await app.waitForLine(awaitedInWork, 1_000);
    const warnedMs = performance.now() - calledAt;
    const { code, elapsedMs } = await app.exit(calledAt);

    expect(warnedMs).toBeLessThan(1_000);
    expect(warning).toMatchObject({ level: 'warn', task: 'queue worker', timeoutMs: 2000 });
    expect(warning.msg).toContain('tracked work "queue worker" (runtime.track)');
    expect(warning.msg).toContain('the drain waits for that work');
    expect(warning.msg).toContain('void runtime.shutdown()');
    const timedOut = app.lines.find(timedOutLine);
    expect(timedOut).toMatchObject({ awaitingShutdown: [{ task: 'queue worker' }], tasks: ['queue worker'] });
    expect(timedOut!.msg).toContain('tracked work "queue worker" awaits runtime.shutdown()');
    expect(code).toBe(1);
    expect(elapsedMs).toBeGreaterThanOrEqual(1_500);
  });

  it('names the task that awaits it once SIGTERM began the shutdown and the drain awaits tracked work', async () => {
    const app = await startApp(fixture, { TIMEOUT_MS: '2000', IDLE_GRACE_MS: '50' });
    expect((await get(`${app.url}/track-awaits-shutdown-on-signal`)).body).toBe('tracked');
    const signalledAt = performance.now();
    app.signal('SIGTERM');
    const warning = await app.waitForLine(awaitedInWork, 1_000);
    const { code } = await app.exit(signalledAt);

    expect(warning).toMatchObject({ level: 'warn', task: 'queue worker' });
    expect(app.lines.find(timedOutLine)).toMatchObject({ awaitingShutdown: [{ task: 'queue worker' }] });
    expect(code).toBe(1);
  });

  it.each([
    ['chains a callback on it, then ends', '/track-shutdown-then', {}],
    // The shutdown awaited outside the work (here: in a request that answered) while the work runs.
    ['is pending while other code awaits it', '/shutdown-answered', { TRACK_MS: '300' }],
  ])('says nothing of tracked work that %s, and exits 0', async (_case, path, env) => {
    const app = await startApp(fixture, { TIMEOUT_MS: '2000', ...env });
    const calledAt = performance.now();
    expect((await get(`${app.url}${path}`)).status).toBe(200);
    const { code, elapsedMs } = await app.exit(calledAt);

    expect(code).toBe(0);
    expect(elapsedMs).toBeLessThan(1_000);
    expect(app.lines.filter(awaitedInWork)).toEqual([]);
    expect(app.lines.filter(awaitedWarning)).toEqual([]);
  });
});
