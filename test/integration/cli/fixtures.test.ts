import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { killAllAppGroups } from '../../../src/cli/app-process.js';
import { parseCommandLine } from '../../../src/cli/command-line.js';
import { renderText } from '../../../src/cli/render-text.js';
import { runCheck } from '../../../src/cli/run-check.js';
import { ConfigurationError } from '../../../src/errors.js';
import { freePort } from '../../support/child.js';
import { check, explain, fixture, grades, row, tempDir } from './check-runner.js';

const node = process.execPath;
const root = new URL('../../../', import.meta.url).pathname;
let cwd: { dir: string; remove: () => void };

/** Whether this machine has IPv6 loopback (a container may not). */
const ipv6Loopback = await new Promise<boolean>((resolve) => {
  const probe = createServer();
  probe.once('error', () => resolve(false));
  probe.listen(0, '::1', () => probe.close(() => resolve(true)));
});

beforeEach(() => {
  cwd = tempDir('ark-check-');
});
afterEach(() => {
  // A run cut short by a test timeout never reaches its own clean-up: kill what it started.
  killAllAppGroups();
  cwd.remove();
});

describe('apprunner-kit check grades fixture apps', () => {
  it('passes a good kit app on every check, with the HTTP health check on /healthz', async () => {
    const report = await check([node, fixture('good-app.mjs')], cwd.dir, ['--health-path', '/healthz']);

    expect(grades(report), explain(report)).toEqual({
      listen: 'pass',
      health: 'pass',
      start: 'pass',
      drain: 'pass',
      logs: 'pass',
      files: 'pass',
    });
    expect(report.passed).toBe(true);
    expect(row(report, 'listen').figures).toMatchObject({ verdict: 'all-interfaces', loopbackAccepts: true });
    expect(row(report, 'health').figures).toMatchObject({
      protocol: 'http',
      path: '/healthz',
      failedOnceHealthy: 0,
    });
    const drain = row(report, 'drain').figures;
    expect(drain).toMatchObject({ failedOnOpenConnections: 0, exitCode: 0, aliveAtGrace: false });
    expect(drain.onOpenConnections).toBeGreaterThan(0);
    expect(drain.inFlightAtSignal).toBeGreaterThan(0);
    expect(row(report, 'logs').figures.structuredShare).toBe(1);
    expect(report.durationMs).toBeLessThan(10_000);
  });

  it('fails a wrapper that does not pass SIGTERM on: the server dies with the container when it exits', async () => {
    const report = await check([node, fixture('wrapper-app.mjs')], cwd.dir);
    expect(row(report, 'drain').status, explain(report)).toBe('fail');
    expect(row(report, 'drain').figures.failedOnOpenConnections).toBeGreaterThan(0);
    expect(row(report, 'drain').hint).toContain('a wrapper (npm start, sh -c) must pass SIGTERM on');
  });

  it('fails an app that exits at once on SIGTERM, closing its idle keep-alive connections (every run alike)', async () => {
    for (let run = 0; run < 3; run++) {
      const report = await check([node, fixture('exits-fast-app.mjs')], cwd.dir);
      const drain = row(report, 'drain');
      expect(drain.status, explain(report)).toBe('fail');
      expect(
        (drain.figures.closedAtOnce as number) + (drain.figures.failedOnOpenConnections as number),
      ).toBeGreaterThan(0);
    }
  });

  it('says that a command given as one quoted string is run without a shell', async () => {
    const report = await check([`${node} ${fixture('good-app.mjs')}`], cwd.dir);
    expect(row(report, 'listen').summary).toContain('no shell runs the command: write its words apart');
  });

  it.skipIf(!ipv6Loopback)(
    'fails an app that listens on IPv6 loopback (::1) only, as on 127.0.0.1',
    async () => {
      const report = await check([node, fixture('ipv6-loopback-app.mjs')], cwd.dir, ['--start-timeout', '5']);
      expect(row(report, 'listen').status, explain(report)).toBe('fail');
      expect(row(report, 'listen').figures).toMatchObject({ verdict: 'loopback-only' });
      expect(row(report, 'listen').summary).toContain(`only on loopback ([::1]:${report.port})`);
    },
  );

  it('passes the same app with the default TCP health check', async () => {
    const report = await check([node, fixture('good-app.mjs')], cwd.dir);
    expect(report.counts).toEqual({ pass: 6, warn: 0, fail: 0, skip: 0 });
    expect(row(report, 'health').title).toBe('health check (TCP connect)');
  });

  it('fails an app that listens on 127.0.0.1 only: listen, health and start', async () => {
    const report = await check([node, fixture('loopback-app.mjs')], cwd.dir, ['--start-timeout', '5']);

    expect(grades(report), explain(report)).toMatchObject({
      listen: 'fail',
      health: 'fail',
      start: 'fail',
      logs: 'pass',
      files: 'pass',
    });
    expect(row(report, 'listen').figures).toMatchObject({
      verdict: 'loopback-only',
      loopbackAccepts: true,
      localAddressAccepts: false,
    });
    expect(row(report, 'listen').summary).toContain(`only on loopback (127.0.0.1:${report.port})`);
    // The drain is still measured, on the one address the app accepts on.
    expect(row(report, 'drain').status).toBe('pass');
    expect(report.notes).toContain(
      'the drain was measured on 127.0.0.1, the only address the app accepts on',
    );
    expect(report.durationMs).toBeLessThan(5000);
  });

  it('fails an app that listens on another port, naming it', async () => {
    const report = await check([node, fixture('wrong-port-app.mjs')], cwd.dir, ['--start-timeout', '5']);

    expect(grades(report), explain(report)).toMatchObject({ listen: 'fail', health: 'fail', start: 'fail' });
    const listen = row(report, 'listen');
    expect(listen.figures.verdict).toBe('other-port');
    expect(listen.summary).toMatch(new RegExp(`^listens on \\[::\\]:\\d+, not on PORT=${report.port}$`));
    expect(row(report, 'drain').summary).toContain(`no load (nothing accepts on port ${report.port})`);
    // Concluded 3 s after it was seen listening elsewhere, not at the start timeout.
    expect(report.durationMs).toBeLessThan(5000);
  });

  it('fails an app that ignores SIGTERM: still alive at the grace window, SIGKILLed', async () => {
    const report = await check([node, fixture('ignores-sigterm-app.mjs')], cwd.dir, ['--grace', '1.5']);

    expect(grades(report), explain(report)).toEqual({
      listen: 'pass',
      health: 'pass',
      start: 'pass',
      drain: 'fail',
      logs: 'pass',
      files: 'pass',
    });
    const drain = row(report, 'drain');
    expect(drain.figures).toMatchObject({ aliveAtGrace: true, exitSignal: 'SIGKILL', graceMs: 1500 });
    expect(drain.figures.exitAfterMs).toBeGreaterThanOrEqual(1500);
    expect(drain.figures.exitAfterMs).toBeLessThan(3000);
    expect(drain.summary).toContain('still running 1.5 s after SIGTERM: SIGKILLed');
  });

  it('fails an app that drops in-flight requests on SIGTERM', async () => {
    const report = await check([node, fixture('drops-in-flight-app.mjs')], cwd.dir);

    expect(grades(report), explain(report)).toEqual({
      listen: 'pass',
      health: 'pass',
      start: 'pass',
      drain: 'fail',
      logs: 'pass',
      files: 'pass',
    });
    const drain = row(report, 'drain');
    expect(drain.figures.failedOnOpenConnections).toBeGreaterThan(0);
    expect(drain.figures, drain.summary).toMatchObject({
      exitCode: 0,
      exitSignal: null,
      aliveAtGrace: false,
    });
    expect(drain.summary).toMatch(
      /SIGTERM with \d+ in flight: [1-9]\d* of \d+ requests on open connections failed/,
    );
  });

  it('warns about an app that logs plain text, with the share and an example', async () => {
    const report = await check([node, fixture('plain-text-app.mjs')], cwd.dir);

    expect(grades(report), explain(report)).toEqual({
      listen: 'pass',
      health: 'pass',
      start: 'pass',
      drain: 'pass',
      logs: 'warn',
      files: 'pass',
    });
    const logs = row(report, 'logs');
    expect(logs.figures.structuredShare).toBeGreaterThan(0);
    expect(logs.figures.structuredShare).toBeLessThan(0.5);
    expect(logs.figures.firstUnstructured).toBe('starting the plain-text app');
    expect(logs.figures.stderrLines).toBe(1);
    expect(report.passed).toBe(true);
  });

  it('warns about an app that writes a state file next to itself (run from a temporary copy)', async () => {
    // The copy resolves 'apprunner-kit' through a link to this checkout; the repository stays untouched.
    mkdirSync(join(cwd.dir, 'node_modules'));
    symlinkSync(root, join(cwd.dir, 'node_modules', 'apprunner-kit'));
    copyFileSync(fixture('state-file-app.mjs'), join(cwd.dir, 'server.mjs'));

    const report = await check([node, 'server.mjs'], cwd.dir);

    expect(grades(report), explain(report)).toEqual({
      listen: 'pass',
      health: 'pass',
      start: 'pass',
      drain: 'pass',
      logs: 'pass',
      files: 'warn',
    });
    const files = row(report, 'files');
    expect(files.figures).toMatchObject({
      root: cwd.dir,
      watchedFiles: 2,
      created: 1,
      modified: 0,
      paths: 'state.json (new)',
    });
    expect(files.summary).toContain(`1 file written under ${cwd.dir}: state.json (new)`);
    expect(JSON.parse(readFileSync(join(cwd.dir, 'state.json'), 'utf8')).hits).toBeGreaterThanOrEqual(0);
    expect(existsSync(fixture('state.json'))).toBe(false);
  });

  it('fails an app that never listens, within the start timeout, with its last lines', async () => {
    const report = await check([node, fixture('never-listens-app.mjs')], cwd.dir, ['--start-timeout', '2']);

    expect(grades(report), explain(report)).toMatchObject({
      listen: 'fail',
      health: 'fail',
      start: 'fail',
      logs: 'pass',
    });
    expect(row(report, 'listen').summary).toBe('nothing listened within 2.0 s (--start-timeout)');
    expect(row(report, 'start').summary).toBe(
      'not healthy 2.0 s after start (--start-timeout); App Runner allows 300 s',
    );
    // It has no SIGTERM handler: the default action ends it.
    expect(row(report, 'drain').figures.exitSignal).toBe('SIGTERM');
    expect(report.lastLines.map((l) => l.line)).toEqual([
      expect.stringContaining('waiting for the database'),
    ]);
    expect(report.durationMs).toBeLessThan(4000);
  });

  it('fails an app that exits at once, with its exit code and last lines; skips what cannot run', async () => {
    const report = await check([node, fixture('exits-at-once-app.mjs')], cwd.dir);

    expect(grades(report), explain(report)).toEqual({
      listen: 'fail',
      health: 'skip',
      start: 'skip',
      drain: 'skip',
      logs: 'warn',
      files: 'pass',
    });
    expect(row(report, 'listen').summary).toMatch(
      /^exited \(code 3\) [\d.]+ s after start, before listening$/,
    );
    expect(report.lastLines).toEqual([{ stream: 'stderr', line: 'Error: DATABASE_URL is not set' }]);
    expect(report.durationMs).toBeLessThan(2000);
  });

  it.each([
    [
      "the kit's line",
      'start-fails-app.mjs',
      [],
      { stream: 'stdout', line: 'the start failed: the database at db.internal:5432 refused the connection' },
    ],
    [
      "Node's print of the error",
      'good-app.mjs',
      ['--env', 'LOG_LEVEL=verbose'],
      {
        stream: 'stderr',
        line: expect.stringMatching(/^ConfigurationError: Invalid LOG_LEVEL: received "verbose"/),
      },
    ],
  ])(
    'shows what failed in the text report of an app that crashed at start, from %s',
    async (_from, app, flags, failureLine) => {
      const report = await check([node, fixture(app)], cwd.dir, flags);

      expect(row(report, 'listen').summary, explain(report)).toMatch(/^exited \(code 1\)/);
      expect(report.failureLine).toEqual(failureLine);
      const text = renderText(report);
      expect(text).toContain(
        `Last lines of its output:\n  ${failureLine.stream === 'stderr' ? 'err' : 'out'} | ${report.failureLine!.line}\n  …\n`,
      );
      expect(text.split('\n').filter((line) => / (err|out) \| /.test(line))).toHaveLength(12);
    },
  );

  it('fails a command that cannot start, naming the error', async () => {
    const report = await check(['no-such-command-apprunner-kit'], cwd.dir);

    expect(grades(report), explain(report)).toEqual({
      listen: 'fail',
      health: 'skip',
      start: 'skip',
      drain: 'skip',
      logs: 'skip',
      files: 'skip',
    });
    expect(row(report, 'listen').summary).toBe(
      'could not start "no-such-command-apprunner-kit": ENOENT — not found on the PATH of this shell',
    );
  });

  it('starts the app in a clean environment with PORT and the --env pairs', async () => {
    const envFile = join(cwd.dir, 'env.json');
    const script = `require('node:fs').writeFileSync(${JSON.stringify(envFile)}, JSON.stringify(process.env)); process.exit(0)`;
    process.env.ARK_CHECK_LEAK = 'must not reach the app';
    try {
      const report = await check([node, '-e', script], cwd.dir, ['--env', 'LOG_LEVEL=debug']);
      const env = JSON.parse(readFileSync(envFile, 'utf8')) as Record<string, string>;
      expect(Object.keys(env).sort()).toEqual(
        ['HOME', 'LOG_LEVEL', 'PATH', 'PORT'].filter((k) => k !== 'HOME' || 'HOME' in process.env),
      );
      expect(env.PORT).toBe(String(report.port));
      expect(env.LOG_LEVEL).toBe('debug');
      expect(row(report, 'files').figures.paths).toBe('env.json (new)');
    } finally {
      delete process.env.ARK_CHECK_LEAK;
    }
  });

  it('on a machine without a non-loopback address, decides from /proc: warns for all interfaces, fails loopback', async () => {
    const noAddress = { localAddress: undefined };
    const good = await check([node, fixture('good-app.mjs')], cwd.dir, [], 'fixtures', noAddress);
    expect(grades(good), explain(good)).toEqual({
      listen: 'warn',
      health: 'pass',
      start: 'pass',
      drain: 'pass',
      logs: 'pass',
      files: 'pass',
    });
    expect(good.localAddress).toBeNull();
    expect(row(good, 'listen').summary).toMatch(
      /^all interfaces on \d+ by its socket \(\[::\]:\d+\), [\d.]+ s after start, not confirmed by a connection: this machine has no non-loopback address$/,
    );
    expect(row(good, 'health').figures.endpoint).toBe(`127.0.0.1:${good.port}`);
    expect(good.notes[0]).toContain('this machine has no non-loopback address');

    const loopback = await check([node, fixture('loopback-app.mjs')], cwd.dir, [], 'fixtures', noAddress);
    expect(row(loopback, 'listen')).toMatchObject({ status: 'fail', figures: { verdict: 'loopback-only' } });
  });

  it('refuses a port another process already listens on', async () => {
    const port = await freePort();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '0.0.0.0', resolve));
    try {
      const line = parseCommandLine([
        'check',
        '--port',
        String(port),
        '--cwd',
        cwd.dir,
        '--',
        node,
        '-e',
        '',
      ]);
      if (line.kind !== 'check') throw new Error('expected a check');
      const error = await runCheck(line.options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).message).toContain(`Port ${port} is already in use on 127.0.0.1`);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
