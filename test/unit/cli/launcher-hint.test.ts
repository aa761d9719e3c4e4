import { describe, expect, it } from 'vitest';
import type { DrainObservation } from '../../../src/cli/drain-run.js';
import { gradeDrain } from '../../../src/cli/grade-drain.js';
import { launcherOf } from '../../../src/cli/launcher-hint.js';

describe('launcherOf', () => {
  it('names npm, node --run, pm2 and sh -c, by the program and its arguments', () => {
    expect(launcherOf(['npm', 'start'])).toBe('npm');
    expect(launcherOf(['/usr/local/bin/npm', 'run', 'serve'])).toBe('npm');
    expect(launcherOf(['node', '--run', 'start'])).toBe('node --run');
    expect(launcherOf(['node', '--env-file=.env', '--run', 'start'])).toBe('node --run');
    expect(launcherOf(['node_modules/.bin/pm2-runtime', 'ecosystem.config.cjs'])).toBe('pm2');
    expect(launcherOf(['pm2', 'start', 'server.mjs', '--no-daemon'])).toBe('pm2');
    expect(launcherOf(['sh', '-c', 'node server.mjs'])).toBe('sh -c');
    expect(launcherOf(['/bin/bash', '-lc', 'node server.mjs'])).toBe('sh -c');
    // A preload's path among node's options, npx, and Windows' names.
    expect(launcherOf(['node', '-r', './preload.cjs', '--run', 'start'])).toBe('node --run');
    expect(launcherOf(['npx', 'tsx', 'server.ts'])).toBe('npm');
    expect(launcherOf(['C:\\Program Files\\nodejs\\npm.cmd', 'start'])).toBe('npm');
    expect(launcherOf(['node.exe', '--run', 'start'])).toBe('node --run');
  });

  it('names none for node itself, and for a script given --run as its own argument', () => {
    expect(launcherOf(['node', 'server.mjs'])).toBeUndefined();
    expect(launcherOf(['node', 'server.mjs', '--run'])).toBeUndefined();
    expect(launcherOf(['sh', 'start.sh'])).toBeUndefined();
    // The shell gives its place to node: SIGTERM reaches it.
    expect(launcherOf(['sh', '-c', 'exec node server.mjs'])).toBeUndefined();
    expect(launcherOf(['node', '-r', './preload.cjs', 'server.mjs', '--run'])).toBeUndefined();
    expect(launcherOf([])).toBeUndefined();
  });
});

/** What the check saw of the audit's `npm start`: killed at once, requests cut. */
const cut: DrainObservation = {
  endpoint: { host: '192.0.2.2', port: 8080 },
  requests: {
    sent: 28,
    onOpenConnections: 20,
    failedOnOpenConnections: 4,
    refusedNewConnections: 4,
    failedNewConnections: 0,
    failedBeforeSignal: 0,
    status5xx: 0,
    errors: { 'socket hang up': 4 },
    errorsOnOpenConnections: { 'socket hang up': 4 },
    closedAtOnce: 0,
    closedUncertain: 0,
  },
  inFlightAtSignal: 1,
  signalled: true,
  exitedBeforeSignal: false,
  exit: { code: null, signal: 'SIGTERM', atMs: 2000 },
  exitAfterMs: 10,
  aliveAtGrace: false,
  graceMs: 5_000,
};

describe("the drain's hint names the launcher", () => {
  it('npm: its script shell, node as the command, an init does not help', () => {
    const row = gradeDrain(cut, '', ['npm', 'start']);
    expect(row.status).toBe('fail');
    expect(row.hint).toContain('npm does not pass SIGTERM on to the server');
    expect(row.hint).toContain('CMD ["node", "server.mjs"]');
    expect(row.hint).toContain('an init (tini, dumb-init) around npm does not help');
  });

  it('node --run, and sh -c with exec', () => {
    expect(gradeDrain(cut, '', ['node', '--run', 'start']).hint).toContain(
      'node --run does not pass SIGTERM on',
    );
    expect(gradeDrain(cut, '', ['sh', '-c', 'node server.mjs']).hint).toContain(
      'sh -c "exec node server.mjs"',
    );
  });

  it('pm2: kill_timeout, not forwarding (pm2-runtime exits 0 after its SIGKILL)', () => {
    const row = gradeDrain({ ...cut, exit: { code: 0, signal: null, atMs: 4000 }, exitAfterMs: 1_900 }, '', [
      'pm2-runtime',
      'ecosystem.config.cjs',
    ]);
    expect(row.status).toBe('fail');
    expect(row.hint).toContain('SIGKILLs it after kill_timeout (1600 ms unless set)');
    expect(row.hint).toContain('set kill_timeout above shutdown.timeoutMs');
  });

  it('on a process killed by SIGTERM without cut requests too', () => {
    const quiet = {
      ...cut,
      requests: { ...cut.requests, failedOnOpenConnections: 0, errorsOnOpenConnections: {} },
    };
    expect(gradeDrain(quiet, '', ['npm', 'start']).hint).toContain('npm does not pass SIGTERM on');
  });

  it('keeps the general hint for node itself', () => {
    expect(gradeDrain(cut, '', ['node', 'server.mjs']).hint).toContain(
      'a wrapper (npm start, sh -c) must pass SIGTERM on',
    );
  });
});
