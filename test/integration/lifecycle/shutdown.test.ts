import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killApps, startApp } from '../../support/app-process.js';
import { freePort, startChild } from '../../support/child.js';
import { get } from '../../support/http.js';
import { streamOf } from '../../support/http2.js';
import { closed, openSocket, readResponse, request } from '../../support/raw-http.js';
import { temporaryDirectory } from '../../support/temp-dir.js';
import { testTls } from '../../support/tls.js';

const fixture = new URL('../../fixtures/shutdown-app.mjs', import.meta.url).pathname;

afterEach(killApps);

describe('shutdown on a real signal', () => {
  it('exits 0 promptly when idle', async () => {
    const app = await startApp(fixture);
    app.signal('SIGTERM');
    const { code, elapsedMs } = await app.exit();
    expect(code).toBe(0);
    expect(elapsedMs).toBeLessThan(1_000);
    expect(app.lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['received SIGTERM', 'shutdown started', 'signal aborted', 'shutdown complete']),
    );
  });

  it('completes in-flight requests of different lengths with their full body', async () => {
    const app = await startApp(fixture);
    const lengths = [100, 400, 900];
    const responses = lengths.map((ms) => get(`${app.url}/slow?ms=${ms}&chunks=5`));
    await new Promise((resolve) => setTimeout(resolve, 50));
    app.signal('SIGTERM');
    const bodies = await Promise.all(responses);
    bodies.forEach((response, i) => {
      expect(response.status).toBe(200);
      expect(response.body).toBe(`chunk-1;chunk-2;chunk-3;chunk-4;chunk-5;done-${lengths[i]}`);
    });
    const { code, elapsedMs } = await app.exit();
    expect(code).toBe(0);
    expect(elapsedMs).toBeGreaterThanOrEqual(800);
  });

  it('answers a request reused on a kept-alive socket during the drain with Connection: close, then closes it', async () => {
    const app = await startApp(fixture, { IDLE_GRACE_MS: '2000' });
    const socket = await openSocket(app.port);
    socket.write(request('/fast'));
    expect((await readResponse(socket)).head).toMatch(/connection: keep-alive/i);

    app.signal('SIGTERM');
    await app.waitForLine((l) => l.msg === 'shutdown started');
    const isClosed = closed(socket);
    socket.write(request('/fast'));
    const response = await readResponse(socket);
    expect(response.head).toMatch(/^HTTP\/1.1 200/);
    expect(response.head).toMatch(/connection: close/i);
    expect(response.body).toBe('ok');
    await isClosed;
    expect((await app.exit()).code).toBe(0);
  });

  it('serves a request that is being written on an idle socket at the moment the drain starts', async () => {
    const app = await startApp(fixture, { IDLE_GRACE_MS: '2000' });
    const socket = await openSocket(app.port);
    socket.write(request('/fast'));
    await readResponse(socket);

    // The next request is half written when the signal arrives and finished once draining began.
    socket.write('GET /fast HTTP/1.1\r\nHost: loc');
    app.signal('SIGTERM');
    await app.waitForLine((l) => l.msg === 'shutdown started');
    socket.write('alhost\r\n\r\n');
    const response = await readResponse(socket);
    expect(response.head).toMatch(/^HTTP\/1.1 200/);
    expect(response.head).toMatch(/connection: close/i);
    expect(response.body).toBe('ok');
    expect((await app.exit()).code).toBe(0);
  });

  it('refuses new connections once draining', async () => {
    const app = await startApp(fixture);
    const slow = get(`${app.url}/slow?ms=600&chunks=3`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    app.signal('SIGTERM');
    await app.waitForLine((l) => l.msg === 'shutdown started');
    await expect(openSocket(app.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect((await slow).status).toBe(200);
    expect((await app.exit()).code).toBe(0);
  });

  it('does not let an idle keep-alive socket hold the exit beyond the idle grace', async () => {
    const app = await startApp(fixture, { IDLE_GRACE_MS: '300' });
    const socket = await openSocket(app.port);
    socket.write(request('/fast'));
    await readResponse(socket);
    const isClosed = closed(socket);
    app.signal('SIGTERM');
    const { code, elapsedMs } = await app.exit();
    await isClosed;
    expect(code).toBe(0);
    expect(elapsedMs).toBeGreaterThanOrEqual(250);
    expect(elapsedMs).toBeLessThan(1_500);
  });

  it('cuts a never-ending request at the deadline and exits 1 close to it', async () => {
    const app = await startApp(fixture, { TIMEOUT_MS: '1000', REQUEST_LOG: '1' });
    const hanging = get(`${app.url}/hang`).catch((error: NodeJS.ErrnoException) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    app.signal('SIGTERM');
    const { code, elapsedMs } = await app.exit();
    expect(code).toBe(1);
    expect(elapsedMs).toBeGreaterThanOrEqual(750); // cut at 800 ms: the last fifth is the final steps'
    expect(elapsedMs).toBeLessThan(1_800);
    const timedOut = app.lines.find((l) => String(l.msg).startsWith('shutdown timed out'));
    expect(timedOut).toMatchObject({ level: 'error', phase: 'draining connections', inFlight: 1 });
    expect(await hanging).toBeInstanceOf(Error);
    // The request cut short still writes its line, before the exit.
    const messages = app.lines.map((l) => l.msg);
    const aborted = messages.indexOf('request aborted');
    expect(app.lines[aborted]).toMatchObject({ level: 'warn', path: '/hang', statusCode: 200 });
    expect(aborted).toBeGreaterThan(messages.indexOf(timedOut!.msg));
    expect(aborted).toBeLessThan(messages.indexOf('shutdown complete'));
  });

  it('awaits tracked work, and bounds it by the deadline', async () => {
    const app = await startApp(fixture);
    expect((await get(`${app.url}/track?ms=500`)).body).toBe('tracked');
    app.signal('SIGTERM');
    const finished = await app.exit();
    expect(finished.code).toBe(0);
    expect(finished.elapsedMs).toBeGreaterThanOrEqual(400);

    const stuck = await startApp(fixture, { TRACK_MS: 'never', TIMEOUT_MS: '700' });
    stuck.signal('SIGTERM');
    const bounded = await stuck.exit();
    expect(bounded.code).toBe(1);
    expect(bounded.elapsedMs).toBeLessThan(1_500);
    expect(stuck.lines.find((l) => String(l.msg).startsWith('shutdown timed out'))).toMatchObject({
      phase: 'awaiting tracked tasks',
      tasks: ['boot task'],
    });
  });

  it('runs hooks in reverse order, each bounded; a failing or hanging hook does not stop the rest', async () => {
    const hooks = [
      { name: 'first' },
      { name: 'throws', throws: true },
      { name: 'hangs', hang: true, timeoutMs: 300 },
      { name: 'last', ms: 50 },
    ];
    const app = await startApp(fixture, { HOOKS: JSON.stringify(hooks) });
    app.signal('SIGTERM');
    const { code, elapsedMs } = await app.exit();
    expect(code).toBe(0);
    expect(elapsedMs).toBeLessThan(1_500);
    const events = app.lines
      .map((l) => String(l.msg))
      .filter((msg) => msg.startsWith('hook ') || msg.startsWith('shutdown hook'));
    expect(events).toEqual([
      'hook last started',
      'hook last done',
      'hook hangs started',
      'shutdown hook "hangs" timed out after 300 ms',
      'hook throws started',
      'shutdown hook "throws" failed',
      'hook first started',
      'hook first done',
    ]);
    const failed = app.lines.find((l) => l.msg === 'shutdown hook "throws" failed');
    expect((failed!.err as { message: string }).message).toBe('hook throws failed on purpose');
  });

  it('forces the exit on a second signal: the requests it cuts write their lines, the hooks not run are named', async () => {
    const hooks = [{ name: 'database' }, { name: 'queue' }];
    const app = await startApp(fixture, {
      TIMEOUT_MS: '10000',
      REQUEST_LOG: '1',
      HOOKS: JSON.stringify(hooks),
    });
    const hanging = get(`${app.url}/hang`).catch((error: NodeJS.ErrnoException) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    app.signal('SIGTERM');
    await app.waitForLine((l) => l.msg === 'shutdown started');
    await new Promise((resolve) => setTimeout(resolve, 150)); // past the 100 ms of a signal sent twice
    app.signal('SIGINT');
    const { code, elapsedMs } = await app.exit();
    expect(code).toBe(1);
    expect(elapsedMs).toBeLessThan(700);
    expect(app.lines.find((l) => l.msg === 'shutdown forced: exiting now')).toMatchObject({
      reason: 'second SIGINT',
    });
    expect(await hanging).toBeInstanceOf(Error);
    // The request cut once went without its line (nor was it counted): the exit came first.
    const messages = app.lines.map((l) => String(l.msg));
    expect(app.lines.find((l) => l.msg === 'request aborted')).toMatchObject({
      level: 'warn',
      path: '/hang',
    });
    expect(messages.indexOf('request aborted')).toBeGreaterThan(
      messages.indexOf('shutdown forced: exiting now'),
    );
    expect(
      app.lines.find((l) =>
        String(l.msg).endsWith(
          'not run: the shutdown was forced (second SIGINT); send one signal to let them run',
        ),
      ),
    ).toMatchObject({
      level: 'error',
      hooks: ['queue', 'database'],
    });
    expect(messages.filter((msg) => msg.startsWith('hook '))).toEqual([]);
  });

  it('takes a signal delivered twice at once (Ctrl+C under npm start) for one: the drain goes on', async () => {
    const app = await startApp(fixture, { TIMEOUT_MS: '10000' });
    const slow = get(`${app.url}/slow?ms=800`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    app.signal('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 20)); // apart, or the kernel merges the two
    app.signal('SIGINT');
    expect((await slow).status).toBe(200);
    const { code } = await app.exit();
    expect(code).toBe(0);
    expect(app.lines.find((l) => l.msg === 'shutdown forced: exiting now')).toBeUndefined();
  });

  it("takes the signal another listener sends again after its own stop (Apollo Server's) for the first: the drain goes on, a further one forces", async () => {
    const app = await startApp(fixture, { TIMEOUT_MS: '10000', RESEND: 'on', RESEND_MS: '300' });
    const slow = get(`${app.url}/slow?ms=1200`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    app.signal('SIGTERM');
    expect((await slow).status).toBe(200);
    const { code } = await app.exit();
    expect(code).toBe(0);
    expect(app.lines.find((l) => l.msg === 'shutdown forced: exiting now')).toBeUndefined();
    expect(app.lines.find((l) => l.resentBy !== undefined)).toMatchObject({
      level: 'info',
      signal: 'SIGTERM',
      resentBy: 'stopThenResend',
    });

    const again = await startApp(fixture, { TIMEOUT_MS: '10000', RESEND: 'on', RESEND_MS: '300' });
    const hanging = get(`${again.url}/hang`).catch((error: NodeJS.ErrnoException) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    again.signal('SIGTERM');
    await again.waitForLine((l) => l.resentBy !== undefined);
    again.signal('SIGTERM');
    expect((await again.exit()).code).toBe(1);
    expect(again.lines.find((l) => l.msg === 'shutdown forced: exiting now')).toMatchObject({
      reason: 'second SIGTERM',
    });
    expect(await hanging).toBeInstanceOf(Error);
  });

  it("does not take a second signal for the re-send of a listener Node removed at the first (process.once): an operator's second signal forces", async () => {
    const app = await startApp(fixture, { TIMEOUT_MS: '10000', RESEND: 'once', RESEND_MS: '5000' });
    const hanging = get(`${app.url}/hang`).catch((error: NodeJS.ErrnoException) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    app.signal('SIGINT');
    await app.waitForLine((l) => l.msg === 'shutdown started');
    await new Promise((resolve) => setTimeout(resolve, 300));
    app.signal('SIGINT');
    expect((await app.exit()).code).toBe(1);
    expect(app.lines.find((l) => l.msg === 'shutdown forced: exiting now')).toMatchObject({
      reason: 'second SIGINT',
    });
    expect(app.lines.find((l) => l.resentBy !== undefined)).toBeUndefined();
    expect(await hanging).toBeInstanceOf(Error);
  });

  it("names other listeners of the signals at start, with Apollo Server's fix, and at the signal", async () => {
    const app = await startApp(fixture, { RESEND: 'on' });
    const atStart = app.lines.find((l) => l.level === 'warn' && Array.isArray(l.signals));
    expect(atStart).toMatchObject({ signals: ['SIGTERM', 'SIGINT'], otherListeners: ['stopThenResend'] });
    expect(String(atStart!.msg)).toContain(
      "Apollo Server (its listener is signalHandler): stopOnTerminationSignals: false, and runtime.onShutdown('apollo', () => server.stop())",
    );
    app.signal('SIGINT');
    expect(await app.waitForLine((l) => l.level === 'warn' && l.signal === 'SIGINT')).toMatchObject({
      otherListeners: ['stopThenResend'],
    });
    expect((await app.exit()).code).toBe(0);
  });

  it('drains two servers together', async () => {
    const app = await startApp(fixture, { SECOND_SERVER: '1' });
    const line = await app.waitForLine((l) => l.msg === 'second server listening');
    const secondUrl = `http://127.0.0.1:${line.port as number}`;
    const first = get(`${app.url}/slow?ms=400&chunks=2`);
    const second = get(`${secondUrl}/slow?ms=600&chunks=3`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    app.signal('SIGTERM');
    expect((await first).body).toBe('chunk-1;chunk-2;done-400');
    expect((await second).body).toBe('chunk-1;chunk-2;chunk-3;done-600');
    expect((await app.exit()).code).toBe(0);
  });
});

describe("the app's own server.close()", () => {
  it('says so and starts the shutdown, so the hooks run before the process ends', async () => {
    const app = await startApp(fixture, { HOOKS: JSON.stringify([{ name: 'database' }]) });
    const since = performance.now();
    expect((await get(`${app.url}/close-server`)).body).toBe('closing');
    const { code, elapsedMs } = await app.exit(since);
    // It once ended the process with exit code 0, no line, and no hook run.
    expect(code).toBe(0);
    expect(elapsedMs).toBeLessThan(1_000);
    const warning = app.lines.find((l) => l.level === 'warn');
    expect(warning).toMatchObject({ port: app.port });
    expect(String(warning!.msg)).toMatch(
      new RegExp(
        `^the server on port ${app.port} was closed outside the kit's shutdown \\(server\\.close\\(\\) in the app`,
      ),
    );
    expect(String(warning!.msg)).toContain(
      'remove that server.close(), the kit drains the server on SIGTERM',
    );
    expect(app.lines.find((l) => l.msg === 'shutdown started')).toMatchObject({ reason: 'server closed' });
    const messages = app.lines.map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(['hook database done', 'shutdown complete']));
  });

  it("of the app's main server with another still open: says so and starts the shutdown too", async () => {
    const app = await startApp(fixture, { SECOND_SERVER: '1', HOOKS: JSON.stringify([{ name: 'db' }]) });
    await app.waitForLine((l) => l.msg === 'second server listening');
    await get(`${app.url}/close-server`);
    const { code } = await app.exit(0);
    expect(code).toBe(0);
    const warning = app.lines.find((l) => l.level === 'warn' && l.port === app.port);
    expect(warning).toMatchObject({ openServers: 1, main: true });
    expect(String(warning?.msg)).toContain('the kit starts its shutdown');
    expect(app.lines.find((l) => l.msg === 'shutdown started')).toMatchObject({ reason: 'server closed' });
    expect(app.lines.find((l) => l.msg === 'hook db done')).toBeDefined();
  });

  it('of one server among several: says so, and the others go on serving', async () => {
    const app = await startApp(fixture, { SECOND_SERVER: '1' });
    const { port } = await app.waitForLine((l) => l.msg === 'second server listening');
    await get(`${app.url}/close-second`);
    const warning = await app.waitForLine((l) => l.level === 'warn', 3_000);
    expect(warning).toMatchObject({ port, openServers: 1 });
    expect(String(warning.msg)).toContain('the kit goes on serving on the other server it manages');
    expect((await get(`${app.url}/fast`)).body).toBe('ok');
    expect(app.lines.find((l) => l.msg === 'shutdown started')).toBeUndefined();
    app.signal('SIGTERM');
    expect((await app.exit()).code).toBe(0);
  });
});

describe('process errors', () => {
  it('logs an uncaught exception as fatal with its stack, drains, and exits 1', async () => {
    const app = await startApp(fixture);
    const slow = get(`${app.url}/slow?ms=300&chunks=3`);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await get(`${app.url}/throw`);
    expect((await slow).body).toBe('chunk-1;chunk-2;chunk-3;done-300');
    const { code } = await app.exit(0);
    expect(code).toBe(1);
    const fatal = app.lines.find((l) => l.level === 'fatal');
    expect(fatal?.msg).toBe('uncaught exception: boom from /throw');
    expect((fatal!.err as { stack: string }).stack).toContain('shutdown-app.mjs');
    expect(app.lines.find((l) => l.msg === 'shutdown started')).toMatchObject({
      reason: 'uncaughtException',
    });
    // The exception was thrown in /throw's request: the fatal line says so, the shutdown's lines not.
    expect(typeof fatal?.requestId).toBe('string');
    const shutdownLines = app.lines.filter((l) => String(l.msg).startsWith('shutdown'));
    expect(shutdownLines.map((l) => l.msg)).toEqual(['shutdown started', 'shutdown complete']);
    for (const line of shutdownLines) expect(line).not.toHaveProperty('requestId');
  });

  it("drains and exits 1 on an unhandled rejection under the 'shutdown' policy", async () => {
    const app = await startApp(fixture);
    await get(`${app.url}/reject`);
    const { code } = await app.exit(0);
    expect(code).toBe(1);
    expect(app.lines.find((l) => l.level === 'fatal')?.msg).toBe(
      'unhandled promise rejection: rejected from /reject',
    );
  });

  it("follows Node's --unhandled-rejections flag when no policy is given: warn keeps serving, strict logs once", async () => {
    const warned = await startApp(fixture, { NODE_OPTIONS: '--unhandled-rejections=warn' });
    await get(`${warned.url}/reject`);
    await warned.waitForLine((l) => l.msg === 'unhandled promise rejection: rejected from /reject');
    expect((await get(`${warned.url}/fast`)).body).toBe('ok');
    warned.signal('SIGTERM');
    expect((await warned.exit()).code).toBe(0);
    expect(warned.lines.filter((l) => l.level === 'fatal')).toEqual([]);

    const strict = await startApp(fixture, { NODE_OPTIONS: '--unhandled-rejections=strict' });
    await get(`${strict.url}/reject`);
    expect((await strict.exit(0)).code).toBe(1);
    // Node raises it as an uncaught exception, then emits it again as handled: one line says it.
    // (Node's own warning about it, written twice without a listener, is not there either.)
    expect(strict.lines.filter((l) => JSON.stringify(l).includes('rejected from /reject'))).toHaveLength(1);
  });

  it.each([
    ['an uncaught exception', '/crash', 'uncaught exception: boom from /crash'],
    ['a throw out of the listener itself', '/crash-sync', 'uncaught exception: boom from /crash-sync'],
    ['an unhandled rejection', '/crash-reject', 'unhandled promise rejection: rejected from /crash-reject'],
  ])(
    'answers 500 at once the request %s happened in, and drains without waiting for it',
    async (_, path, fatal) => {
      const app = await startApp(fixture, { TIMEOUT_MS: '10000', REQUEST_LOG: '1' });
      const slow = get(`${app.url}/slow?ms=400&chunks=2`);
      await new Promise((resolve) => setTimeout(resolve, 30));
      const crashedAt = performance.now();
      const crashed = await get(`${app.url}${path}`);
      expect(crashed.status).toBe(500);
      expect(crashed.headers.connection).toBe('close');
      expect(crashed.headers['x-request-id']).toBeDefined();
      expect((await slow).body).toBe('chunk-1;chunk-2;done-400');
      const { code, elapsedMs } = await app.exit(crashedAt);
      expect(code).toBe(1);
      expect(elapsedMs).toBeLessThan(3_000); // not the 8 s the drain's deadline would have taken
      const line = app.lines.find((l) => l.path === path && l.statusCode !== undefined);
      expect(line).toMatchObject({ level: 'error', statusCode: 500, err: { message: fatal.split(': ')[1] } });
      const fatalLine = app.lines.find((l) => l.level === 'fatal');
      expect(fatalLine?.msg).toBe(fatal);
      expect(fatalLine?.requestId).toBe(crashed.headers['x-request-id']);
    },
  );

  it('answers 500 at once an HTTP/2 request whose code crashed, without a Connection header', async () => {
    const app = await startApp(fixture, { TIMEOUT_MS: '10000', SECOND_SERVER: 'h2', REQUEST_LOG: '1' });
    const { port } = await app.waitForLine((l) => l.msg === 'second server listening');
    const session = connectHttp2(`https://localhost:${port as number}`, { ca: testTls.cert });
    session.on('error', () => {});
    const crashedAt = performance.now();
    const crashed = await streamOf(session, '/crash');
    const { code, elapsedMs } = await app.exit(crashedAt);
    session.destroy();
    expect(crashed).toMatchObject({ status: 500, body: 'Internal Server Error' });
    expect(code).toBe(1);
    expect(elapsedMs).toBeLessThan(3_000); // not the 8 s the drain's deadline would have taken
    const line = app.lines.find((l) => l.path === '/crash' && l.statusCode !== undefined);
    expect(line).toMatchObject({ level: 'error', statusCode: 500, err: { message: 'boom from /crash' } });
  });

  it('cuts the connection of a crashed request whose response had begun', async () => {
    const app = await startApp(fixture, { TIMEOUT_MS: '10000' });
    const crashedAt = performance.now();
    const crashed = await get(`${app.url}/crash-midway`).catch((error: Error) => error);
    expect(crashed).toBeInstanceOf(Error);
    const { code, elapsedMs } = await app.exit(crashedAt);
    expect(code).toBe(1);
    expect(elapsedMs).toBeLessThan(3_000);
  });

  it('lets the first signal join a drain that code or a crash started, not force it', async () => {
    const app = await startApp(fixture, { TIMEOUT_MS: '10000' });
    const slow = get(`${app.url}/slow?ms=900&chunks=3`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await get(`${app.url}/shutdown`);
    await app.waitForLine((l) => l.msg === 'shutdown started');
    await new Promise((resolve) => setTimeout(resolve, 200));
    app.signal('SIGTERM'); // App Runner's, as it replaces the instance
    expect((await slow).body).toBe('chunk-1;chunk-2;chunk-3;done-900');
    expect((await app.exit(0)).code).toBe(0);
    expect(app.lines.find((l) => l.msg === 'shutdown forced: exiting now')).toBeUndefined();
    expect(
      app.lines.find((l) => l.msg === 'received SIGTERM while draining: the drain goes on'),
    ).toBeDefined();
  });

  it('writes ten crash lines during a drain, then counts the rest', async () => {
    const app = await startApp(fixture, { TIMEOUT_MS: '10000' });
    const slow = get(`${app.url}/slow?ms=600&chunks=2`);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await get(`${app.url}/throw-often`);
    expect((await slow).status).toBe(200);
    expect((await app.exit(0)).code).toBe(1);
    const fatal = app.lines.filter((l) => l.msg === 'uncaught exception: boom from /throw-often');
    expect(fatal).toHaveLength(11); // the one that started the drain, and ten during it
    const counted = app.lines.find((l) => typeof l.uncaughtNotWritten === 'number');
    expect(counted!.uncaughtNotWritten as number).toBeGreaterThan(10);
  });

  it('exits 1 after an uncaught exception with shutdown.exit false (the process ends by itself)', async () => {
    const app = await startApp(fixture, { NO_EXIT: '1' });
    await get(`${app.url}/throw`);
    const { code } = await app.exit(0);
    expect(code).toBe(1);
    expect(app.lines.find((l) => l.msg === 'shutdown complete')).toBeDefined();
  });

  it('keeps serving and exits 1 under --unhandled-rejections=warn-with-error-code, as Node would', async () => {
    const app = await startApp(fixture, { NODE_OPTIONS: '--unhandled-rejections=warn-with-error-code' });
    await get(`${app.url}/reject`);
    await app.waitForLine((l) => l.msg === 'unhandled promise rejection: rejected from /reject');
    expect((await get(`${app.url}/fast`)).body).toBe('ok');
    app.signal('SIGTERM');
    expect((await app.exit()).code).toBe(1);
  });

  it("logs an unhandled rejection and keeps serving under the 'log' policy", async () => {
    const app = await startApp(fixture, { UNHANDLED: 'log' });
    await get(`${app.url}/reject`);
    await app.waitForLine((l) => l.msg === 'unhandled promise rejection: rejected from /reject');
    expect((await get(`${app.url}/fast`)).body).toBe('ok');
    app.signal('SIGTERM');
    expect((await app.exit()).code).toBe(0);
    expect(app.lines.find((l) => l.msg === 'unhandled promise rejection: rejected from /reject')?.level).toBe(
      'error',
    );
  });
});

/** A directory holding a node.config.json of `nodeOptions`. */
function nodeConfigDir(nodeOptions: Record<string, unknown>): string {
  const dir = temporaryDirectory('ark-node-config-');
  writeFileSync(join(dir, 'node.config.json'), JSON.stringify({ nodeOptions }));
  return dir;
}

/** Whether this Node takes `flag` (a config file's), as its command line gives it. */
function nodeTakes(flag: string): boolean {
  const dir = nodeConfigDir({});
  return spawnSync(process.execPath, [flag, '-e', '0'], { cwd: dir, stdio: 'ignore' }).status === 0;
}

describe("Node's --unhandled-rejections in its config file", () => {
  const configFile = nodeTakes('--config-file=node.config.json');
  const experimental = nodeTakes('--experimental-config-file=node.config.json');
  const byDefault = nodeTakes('--experimental-default-config-file');

  const flags: [string, boolean, (dir: string) => string[]][] = [
    ['--config-file=<path>', configFile, (dir) => [`--config-file=${join(dir, 'node.config.json')}`]],
    [
      '--experimental-config-file=<path>',
      experimental,
      (dir) => [`--experimental-config-file=${join(dir, 'node.config.json')}`],
    ],
    ['--experimental-default-config-file', byDefault, () => ['--experimental-default-config-file']],
  ];
  for (const [flag, supported, execArgv] of flags) {
    it.runIf(supported)(`is followed under ${flag}: warn keeps serving on a rejection`, async () => {
      const dir = nodeConfigDir({ 'unhandled-rejections': 'warn' });
      const app = await startApp(fixture, {}, execArgv(dir), dir);
      await get(`${app.url}/reject`);
      await app.waitForLine((l) => l.msg === 'unhandled promise rejection: rejected from /reject');
      expect((await get(`${app.url}/fast`)).body).toBe('ok');
      app.signal('SIGTERM');
      expect((await app.exit()).code).toBe(0);
      expect(app.lines.filter((l) => l.level === 'fatal')).toEqual([]);
    });
  }

  it.runIf(experimental)(
    'gives way to NODE_OPTIONS, as in Node: strict there wins over warn in the file',
    async () => {
      const dir = nodeConfigDir({ 'unhandled-rejections': 'warn' });
      const app = await startApp(fixture, { NODE_OPTIONS: '--unhandled-rejections=strict' }, [
        `--experimental-config-file=${join(dir, 'node.config.json')}`,
      ]);
      await get(`${app.url}/reject`);
      expect((await app.exit(0)).code).toBe(1);
      expect(app.lines.filter((l) => JSON.stringify(l).includes('rejected from /reject'))).toHaveLength(1);
    },
  );

  it.runIf(experimental)(
    'is left out where NODE_OPTIONS is set, as Node leaves the file out then: a rejection shuts down',
    async () => {
      const dir = nodeConfigDir({ 'unhandled-rejections': 'warn' });
      const env = { NODE_OPTIONS: '--max-old-space-size=256' };
      const execArgv = [`--experimental-config-file=${join(dir, 'node.config.json')}`];
      // Node itself: the rejection throws (exit 1), as without the file.
      const node = spawnSync(process.execPath, [...execArgv, '-e', 'Promise.reject(new Error("x"))'], {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: 'ignore',
      });
      expect(node.status).toBe(1);
      const app = await startApp(fixture, env, execArgv);
      await get(`${app.url}/reject`);
      expect((await app.exit(0)).code).toBe(1);
    },
  );

  it.runIf(experimental)(
    'is not seen when the file is outside what --permission lets the app read: a warn line says so, and a rejection shuts down as before',
    async () => {
      const dir = nodeConfigDir({ 'unhandled-rejections': 'warn' });
      const root = new URL('../../..', import.meta.url).pathname;
      const net = process.allowedNodeEnvironmentFlags.has('--allow-net') ? ['--allow-net'] : [];
      const app = await startApp(fixture, {}, [
        '--permission',
        `--allow-fs-read=${root}`,
        ...net,
        `--experimental-config-file=${join(dir, 'node.config.json')}`,
      ]);
      expect(app.lines.find((l) => l.nodeConfigFile !== undefined)).toMatchObject({
        level: 'warn',
        nodeConfigFile: join(dir, 'node.config.json'),
        msg: expect.stringContaining('could not be read (Access to this API has been restricted.'),
      });
      await get(`${app.url}/reject`);
      expect((await app.exit(0)).code).toBe(1);
    },
  );
});

describe('an unhandled rejection while another unhandledRejection listener is installed', () => {
  it.each(['before', 'after'])(
    "is logged and the app keeps serving, as Node would, by default (a listener installed %s the kit's)",
    async (when) => {
      const app = await startApp(fixture, { REJECTION_LISTENER: when });
      expect(
        app.lines.filter((l) => String(l.msg).startsWith('unhandled promise rejections are logged')),
      ).toMatchObject(when === 'before' ? [{ level: 'info', otherListeners: ['frameworkRejections'] }] : []);
      await get(`${app.url}/reject`);
      const line = await app.waitForLine(
        (l) => l.msg === 'unhandled promise rejection: rejected from /reject',
      );
      expect(line).toMatchObject({
        level: 'error',
        unhandledRejection: 'log',
        otherListeners: ['frameworkRejections'],
      });
      expect((await get(`${app.url}/fast`)).body).toBe('ok');
      app.signal('SIGTERM');
      expect((await app.exit()).code).toBe(0);
    },
  );

  it("drains and exits 1 when the app chose 'shutdown'", async () => {
    const app = await startApp(fixture, { REJECTION_LISTENER: 'before', UNHANDLED: 'shutdown' });
    await get(`${app.url}/reject`);
    expect((await app.exit()).code).toBe(1);
    expect(app.lines.some((l) => String(l.msg).startsWith('unhandled promise rejections are logged'))).toBe(
      false,
    );
  });
});

describe('under continuous keep-alive load', () => {
  const tlsCa = readFileSync(new URL('../../fixtures/tls/cert.pem', import.meta.url));

  it.each([
    { protocol: 'HTTP', env: {} },
    { protocol: 'HTTPS', env: { TLS: '1' } },
  ])(
    'fails no request sent on an open $protocol connection, in each of 12 consecutive runs',
    async ({ env }) => {
      const tls = 'TLS' in env;
      const runs: { sent: number; failed: number; refused: number; exit: number | null }[] = [];
      for (let run = 0; run < 12; run++) {
        const app = await startApp(fixture, { IDLE_GRACE_MS: '1000', ...env });
        const exited = app.exit(0);
        const load = (await import('../../support/load.js')).keepAliveLoad(app.port, {
          connections: 32,
          until: exited,
          maxMs: 8_000,
          ...(tls ? { tlsCa } : {}),
        });
        // Over TLS the 32 handshakes take longer: let the load reach every socket before the signal.
        await new Promise((resolve) => setTimeout(resolve, tls ? 200 : 150));
        app.signal('SIGTERM');
        const report = await load;
        const { code } = await exited;
        runs.push({
          sent: report.outcomes.length,
          failed: report.failedOnOpenConnections,
          refused: report.failedNewConnections,
          exit: code,
        });
      }
      for (const run of runs) {
        expect(run.failed, JSON.stringify(runs)).toBe(0);
        expect(run.exit).toBe(0);
        expect(run.sent).toBeGreaterThan(32);
      }
    },
    150_000,
  );

  it('reports timedOut (exit 1, the deadline line) when it had to destroy a busy TLS socket', async () => {
    const app = await startApp(fixture, { TIMEOUT_MS: '1000', TLS: '1' });
    const { keepAliveLoad } = await import('../../support/load.js');
    const hanging = keepAliveLoad(app.port, {
      connections: 1,
      until: new Promise(() => {}),
      maxMs: 5_000,
      maxRequests: 1,
      path: '/hang',
      tlsCa,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    app.signal('SIGTERM');
    const { code, elapsedMs } = await app.exit();
    expect(code).toBe(1);
    expect(elapsedMs).toBeGreaterThanOrEqual(750); // cut at 800 ms: the last fifth is the final steps'
    const timedOut = app.lines.find((l) => String(l.msg).startsWith('shutdown timed out'));
    expect(timedOut).toMatchObject({ level: 'error', phase: 'draining connections', inFlight: 1 });
    expect((await hanging).outcomes[0]).toMatchObject({ ok: false });
  });
});

describe('Agent reuse sanity', () => {
  it('marks the second request on a keep-alive agent as reused', async () => {
    const app = await startApp(fixture);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { keepAliveLoad } = await import('../../support/load.js');
    const report = await keepAliveLoad(app.port, {
      connections: 1,
      until: new Promise(() => {}),
      maxMs: 2_000,
      maxRequests: 3,
    });
    expect(report.outcomes.map((o) => o.reused)).toEqual([false, true, true]);
    agent.destroy();
    app.signal('SIGTERM');
    expect((await app.exit()).code).toBe(0);
  });
});

describe('a signal before the handlers are in', () => {
  const early = new URL('../../fixtures/early-signal.mjs', import.meta.url).pathname;
  const env = async (extra: Record<string, string> = {}) => ({
    PORT: String(await freePort()),
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    OTEL_BSP_EXPORT_TIMEOUT: '200',
    ...extra,
  });

  it('handles a SIGTERM sent while the OpenTelemetry SDK loads: lines written, hooks run, exit 0', async () => {
    const child = startChild(early, await env());
    const { code, signal } = await child.exited;
    // Before: killed by the signal itself (143), with no line at all. Now it is handled, at the
    // start's next turn of the event loop (after it listens, when nothing it awaited took one).
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(child.lines.find((l) => l.msg === 'received SIGTERM')).toBeDefined();
    expect(child.lines.find((l) => l.msg === 'shutdown complete')).toBeDefined();
  });
});
