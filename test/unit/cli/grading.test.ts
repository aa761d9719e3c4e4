import { describe, expect, it } from 'vitest';
import type { HealthCheckSettings } from '../../../src/cli/check-options.js';
import type { DrainObservation } from '../../../src/cli/drain-run.js';
import { gradeDrain } from '../../../src/cli/grade-drain.js';
import { gradeFiles, gradeLogs } from '../../../src/cli/grade-output.js';
import { gradeHealth, gradeListen, gradeStart, type StartupContext } from '../../../src/cli/grade-startup.js';
import type { HealthObservation, HealthProbeRecord } from '../../../src/cli/health-watch.js';
import type { ListenObservation } from '../../../src/cli/listen-watch.js';
import type { OutputTally } from '../../../src/cli/output-capture.js';

const settings: HealthCheckSettings = {
  protocol: 'http',
  path: '/healthz',
  intervalS: 5,
  timeoutS: 2,
  healthyThreshold: 1,
  unhealthyThreshold: 5,
};
const context: StartupContext = {
  command: ['node', 'server.js'],
  port: 8080,
  localAddress: { address: '192.0.2.2', family: 4, interfaceName: 'eth0' },
  startTimeoutMs: 60_000,
  exit: undefined,
};

function listen(overrides: Partial<ListenObservation>): ListenObservation {
  return {
    verdict: 'all-interfaces',
    loopbackAccepts: true,
    addressAccepts: true,
    sockets: [],
    watchedMs: 300,
    ...overrides,
  };
}

describe('gradeListen', () => {
  it('passes on all interfaces, with the sockets and how soon', () => {
    const row = gradeListen(
      listen({ listeningAtMs: 210, sockets: [{ address: '::', port: 8080, family: 6 }] }),
      context,
    );
    expect(row).toMatchObject({
      id: 'listen',
      status: 'pass',
      summary: 'all interfaces on 8080 ([::]:8080), 0.21 s after start',
    });
    expect(row.figures).toMatchObject({
      listeningAfterMs: 210,
      localAddress: '192.0.2.2',
      sockets: '[::]:8080',
    });
  });

  it.each([
    ['loopback-only', 'fail', 'only on loopback (127.0.0.1:8080)'],
    ['other-port', 'fail', 'listens on 0.0.0.0:3000, not on PORT=8080'],
    ['address-only', 'warn', 'only on one address'],
    ['unverified', 'warn', 'all interfaces not verified'],
    ['never', 'fail', 'nothing listened within 60 s (--start-timeout)'],
    ['exited', 'fail', 'exited before listening'],
    ['not-started', 'fail', 'could not start'],
  ] as const)('%s is a %s', (verdict, status, summary) => {
    const sockets =
      verdict === 'loopback-only'
        ? [{ address: '127.0.0.1', port: 8080, family: 4 as const }]
        : verdict === 'other-port'
          ? [{ address: '0.0.0.0', port: 3000, family: 4 as const }]
          : [];
    const row = gradeListen(listen({ verdict, sockets }), context);
    expect(row.status).toBe(status);
    expect(row.summary).toContain(summary);
    expect(row.hint).toBeDefined();
  });

  it('names the exit of an app that ended before listening, and why a command did not start', () => {
    expect(
      gradeListen(listen({ verdict: 'exited' }), { ...context, exit: { code: 3, signal: null, atMs: 120 } })
        .summary,
    ).toBe('exited (code 3) 0.12 s after start, before listening');
    const spawnError = Object.assign(new Error('spawn nope ENOENT'), { code: 'ENOENT' });
    expect(
      gradeListen(listen({ verdict: 'not-started' }), {
        ...context,
        command: ['nope'],
        exit: { code: null, signal: null, atMs: 1, spawnError },
      }).summary,
    ).toBe('could not start "nope": ENOENT — not found on the PATH of this shell');
  });
});

function probe(ok: boolean, latencyMs: number, atMs = 0): HealthProbeRecord {
  return ok ? { ok, latencyMs, atMs, status: 200 } : { ok, latencyMs, atMs, error: 'ECONNREFUSED' };
}

function health(overrides: Partial<HealthObservation>): HealthObservation {
  return {
    endpoint: { host: '192.0.2.2', port: 8080 },
    startChecks: [probe(false, 0.2, 0), probe(true, 1.5, 250)],
    startCheckCount: 2,
    firstPassAtMs: 250,
    healthyAtMs: 252,
    endedBy: 'healthy',
    samples: [probe(true, 1, 1000), probe(true, 2, 2000), probe(true, 3, 3000)],
    ...overrides,
  };
}

/** A start that never reached the healthy threshold. */
function unhealthy(overrides: Partial<HealthObservation>): HealthObservation {
  const {
    healthyAtMs: _healthy,
    firstPassAtMs: _first,
    ...rest
  } = health({ endedBy: 'deadline', ...overrides });
  return rest;
}

describe('gradeHealth', () => {
  it('passes with latency figures against the timeout', () => {
    const row = gradeHealth(health({}), settings, '');
    expect(row.status).toBe('pass');
    expect(row.summary).toBe(
      '4 checks passed on 192.0.2.2:8080; latency median 1.8 ms, max 3.0 ms against the 2000 ms timeout',
    );
    expect(row.figures).toMatchObject({
      checks: 5,
      passed: 4,
      latencyMedianMs: 1.75,
      latencyMaxMs: 3,
      timeoutMs: 2000,
    });
  });

  it('warns when the slowest check takes over half the timeout, or one fails once healthy', () => {
    expect(gradeHealth(health({ samples: [probe(true, 1500)] }), settings, '').summary).toContain(
      'passes, but slowly',
    );
    const flaky = gradeHealth(
      health({ samples: [probe(true, 1), probe(false, 2), probe(true, 1)] }),
      settings,
      '',
    );
    expect(flaky.status).toBe('warn');
    expect(flaky.summary).toContain('1 of 3 checks failed once healthy');
  });

  it('fails when it never passes, or fails unhealthyThreshold times in a row once healthy', () => {
    const never = gradeHealth(
      unhealthy({ startChecks: [probe(false, 0.1)], startCheckCount: 40, samples: [] }),
      settings,
      '',
    );
    expect(never.status).toBe('fail');
    expect(never.summary).toBe('never passed: 40 checks on 192.0.2.2:8080, last failure: ECONNREFUSED');
    const replaced = gradeHealth(
      health({ samples: Array.from({ length: 5 }, () => probe(false, 1)) }),
      settings,
      '',
    );
    expect(replaced.status).toBe('fail');
    expect(replaced.summary).toContain('App Runner would replace the instance');
  });

  it('skips when there was nothing to check', () => {
    expect(gradeHealth(undefined, settings, 'not run: x')).toMatchObject({
      status: 'skip',
      summary: 'not run: x',
    });
  });
});

describe('gradeStart', () => {
  it("passes with App Runner's estimate: the first pass plus healthyThreshold intervals", () => {
    const row = gradeStart(health({}), settings, context, '');
    expect(row.status).toBe('pass');
    expect(row.figures).toMatchObject({
      healthyAfterMs: 252,
      estimatedOnAppRunnerMs: 5250,
      appRunnerWindowMs: 300_000,
    });
  });

  it("warns when App Runner's estimate falls past its 300 s window, fails when not healthy in time", () => {
    const late = health({ firstPassAtMs: 298_000, healthyAtMs: 298_001 });
    expect(gradeStart(late, settings, context, '').status).toBe('warn');
    const row = gradeStart(unhealthy({}), settings, context, '');
    expect(row.status).toBe('fail');
    expect(row.summary).toBe('not healthy 60 s after start (--start-timeout); App Runner allows 300 s');
  });
});

function drain(
  overrides: Partial<DrainObservation>,
  requests: Partial<DrainObservation['requests']> = {},
): DrainObservation {
  return {
    endpoint: { host: '192.0.2.2', port: 8080 },
    requests: {
      sent: 300,
      onOpenConnections: 290,
      failedOnOpenConnections: 0,
      refusedNewConnections: 4,
      failedNewConnections: 0,
      failedBeforeSignal: 0,
      status5xx: 0,
      errors: { ECONNREFUSED: 4 },
      errorsOnOpenConnections: {},
      closedAtOnce: 0,
      closedUncertain: 0,
      ...requests,
    },
    inFlightAtSignal: 3,
    signalled: true,
    exitedBeforeSignal: false,
    exit: { code: 0, signal: null, atMs: 2000 },
    exitAfterMs: 40,
    aliveAtGrace: false,
    graceMs: 10_000,
    ...overrides,
  };
}

describe('gradeDrain', () => {
  it('passes a drain without a failed request on an open connection and exit 0', () => {
    const row = gradeDrain(drain({}), '');
    expect(row.status).toBe('pass');
    expect(row.summary).toBe(
      'SIGTERM with 3 in flight: 0 of 290 requests on open connections failed; exited (code 0) 0.04 s after SIGTERM, grace 10 s',
    );
  });

  it('fails on a request dropped on an open connection, naming the errors', () => {
    const row = gradeDrain(
      drain(
        {},
        {
          failedOnOpenConnections: 3,
          errors: { ECONNRESET: 3, ECONNREFUSED: 1 },
          errorsOnOpenConnections: { ECONNRESET: 3 },
        },
      ),
      '',
    );
    expect(row.status).toBe('fail');
    expect(row.summary).toContain('3 of 290 requests on open connections failed (ECONNRESET ×3)');
  });

  it('fails on idle connections closed at once after SIGTERM without Connection: close (the keep-alive race)', () => {
    const row = gradeDrain(drain({}, { closedAtOnce: 3 }), '');
    expect(row.status).toBe('fail');
    expect(row.summary).toContain(
      '3 idle connections closed at once after SIGTERM, without Connection: close',
    );
    expect(row.figures).toMatchObject({ closedAtOnce: 3 });
  });

  it('warns, not fails, on idle connections the checker, held up, cannot tell closed at once or after a grace', () => {
    const row = gradeDrain(drain({}, { closedUncertain: 2 }), '');
    expect(row.status).toBe('warn');
    expect(row.summary).toContain(
      '2 idle connections closed after SIGTERM, without Connection: close, while the checker was held up: at once or after a grace, it cannot tell',
    );
    expect(row.hint).toContain('run the check again on a less busy machine');
    expect(row.figures).toMatchObject({ closedAtOnce: 0, closedUncertain: 2 });
    expect(gradeDrain(drain({}, { closedAtOnce: 1, closedUncertain: 2 }), '').status).toBe('fail');
  });

  it('names the wrapper and a cluster primary when the connections closed at once because the process died of SIGTERM', () => {
    const killed = gradeDrain(
      drain({ exit: { code: null, signal: 'SIGTERM', atMs: 1 } }, { closedAtOnce: 3 }),
      '',
    );
    expect(killed.status).toBe('fail');
    expect(killed.hint).toContain('the wrapper died, not the server: run node itself, or exec it');
    expect(killed.hint).toContain('a node:cluster primary that only forks died');
    expect(killed.hint).toContain('call runCluster() in the primary');
    expect(gradeDrain(drain({}, { closedAtOnce: 3 }), '').hint).not.toContain('wrapper');
  });

  it('fails when still alive at the grace window', () => {
    const row = gradeDrain(
      drain({ aliveAtGrace: true, exit: { code: null, signal: 'SIGKILL', atMs: 12_000 } }),
      '',
    );
    expect(row.status).toBe('fail');
    expect(row.summary).toContain('still running 10 s after SIGTERM: SIGKILLed');
  });

  it("warns on SIGTERM's default action, a non-zero exit, no load, 5xx answers", () => {
    expect(gradeDrain(drain({ exit: { code: null, signal: 'SIGTERM', atMs: 1 } }), '').summary).toContain(
      "killed by SIGTERM's default action",
    );
    expect(gradeDrain(drain({ exit: { code: 1, signal: null, atMs: 1 } }), '').status).toBe('warn');
    const noLoad = gradeDrain(
      drain({ endpoint: undefined, loadSkipped: 'nothing accepts on port 8080' }),
      '',
    );
    expect(noLoad).toMatchObject({ status: 'warn' });
    expect(noLoad.summary).toContain('no load (nothing accepts on port 8080)');
    expect(gradeDrain(drain({}, { status5xx: 2 }), '').summary).toContain('2 5xx answers');
  });

  it('fails when the app exited on its own before SIGTERM; skips when it never ran', () => {
    expect(gradeDrain(drain({ signalled: false, exitedBeforeSignal: true }), '').status).toBe('fail');
    expect(gradeDrain(undefined, 'not run').status).toBe('skip');
  });
});

function tally(lines: number, structured: number, firstUnstructured?: string): OutputTally {
  return { lines, structured, jsonIncomplete: 0, text: lines - structured, firstUnstructured };
}

describe('gradeLogs', () => {
  it('passes when every line is structured, warns with the share and an example otherwise', () => {
    expect(gradeLogs(tally(10, 10), tally(0, 0)).status).toBe('pass');
    const row = gradeLogs(tally(3, 1, 'hello'), tally(1, 0));
    expect(row.status).toBe('warn');
    expect(row.summary).toBe('25 % structured (stdout 1/3, stderr 0/1 lines); e.g. "hello"');
    expect(row.figures).toMatchObject({ lines: 4, structured: 1, structuredShare: 0.25 });
  });

  it('warns when there is no output at all', () => {
    expect(gradeLogs(tally(0, 0), tally(0, 0)).summary).toContain('no output at all');
  });
});

describe('gradeFiles', () => {
  const watch = { root: '/app', watched: 12, truncated: false };

  it('passes when nothing was written, warns with the paths otherwise', () => {
    expect(gradeFiles({ created: [], modified: [], deleted: [] }, watch, '').status).toBe('pass');
    const row = gradeFiles({ created: ['state.json'], modified: ['db.sqlite'], deleted: [] }, watch, '');
    expect(row.status).toBe('warn');
    expect(row.summary).toContain('2 files written under /app: state.json (new), db.sqlite (modified)');
  });

  it('ignores deletions when the watch was truncated', () => {
    expect(
      gradeFiles({ created: [], modified: [], deleted: ['x'] }, { ...watch, truncated: true }, '').status,
    ).toBe('pass');
  });
});
