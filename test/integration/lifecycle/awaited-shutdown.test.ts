import { afterEach, describe, expect, it } from 'vitest';
import { killApps, startApp } from '../../support/app-process.js';
import { get } from '../../support/http.js';

const fixture = new URL('../../fixtures/shutdown-app.mjs', import.meta.url).pathname;

afterEach(killApps);

const awaitedWarning = (line: Record<string, unknown>) =>
  String(line.msg).startsWith('runtime.shutdown() is awaited in request');

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
