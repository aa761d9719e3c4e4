import { describe, expect, it } from 'vitest';
import { renderText } from '../../../src/cli/render-text.js';
import { type CheckReport, countStatuses, exitCodeOf } from '../../../src/cli/report.js';

function report(statuses: CheckReport['checks'][number]['status'][]): CheckReport {
  const ids = ['listen', 'health', 'start', 'drain', 'logs', 'files'] as const;
  const checks = statuses.map((status, i) => ({
    id: ids[i]!,
    title: ids[i]!,
    status,
    summary: `${ids[i]} is ${status}`,
    ...(status === 'pass' ? {} : { hint: `fix ${ids[i]}` }),
    figures: {},
  }));
  const counts = countStatuses(checks);
  return {
    tool: 'apprunner-kit check',
    schemaVersion: 1,
    command: ['node', 'my server.js'],
    cwd: '/app',
    port: 8080,
    localAddress: '192.0.2.2',
    health: {
      protocol: 'http',
      path: '/healthz',
      intervalS: 5,
      timeoutS: 2,
      healthyThreshold: 1,
      unhealthyThreshold: 5,
    },
    probeIntervalMs: 1000,
    startTimeoutMs: 60_000,
    graceMs: 10_000,
    load: { connections: 4, requests: 300, path: '/' },
    durationMs: 4321,
    checks,
    counts,
    passed: counts.fail === 0,
    notes: ['a note'],
    lastLines: [
      { stream: 'stdout', line: 'starting' },
      { stream: 'stderr', line: 'x'.repeat(300) },
    ],
    failureLine: null,
  };
}

describe('renderText', () => {
  it('prints one row per check, hints under warn and fail, totals, notes and — on failure — the last lines', () => {
    const text = renderText(report(['pass', 'warn', 'fail', 'skip', 'pass', 'pass']));
    expect(text).toContain("apprunner-kit check: node 'my server.js'");
    expect(text).toContain('health HTTP GET /healthz: interval 5 s, timeout 2 s, healthy 1, unhealthy 5');
    expect(text).toContain('  PASS  listen  listen is pass\n');
    expect(text).toContain('  WARN  health  health is warn\n                → fix health\n');
    expect(text).toContain('  FAIL  start   start is fail\n');
    expect(text).toContain('  SKIP  drain   drain is skip\n  PASS  logs');
    expect(text).toContain('3 passed, 1 warning, 1 failed, 1 skipped in 4.3 s');
    expect(text).toContain('note: a note');
    expect(text).toContain('Last lines of its output:\n  out | starting\n  err | xxx');
    expect(text).toContain(`${'x'.repeat(199)}…\n`);
  });

  it('shows the line that says what failed above the last lines, when they leave it out', () => {
    const frames = Array.from({ length: 14 }, (_, i) => ({
      stream: 'stderr' as const,
      line: `    at frame${i}`,
    }));
    const failed = report(['fail', 'skip', 'skip', 'skip', 'pass', 'pass']);
    const failureLine = { stream: 'stderr' as const, line: 'Error: Use --allow-net to manage permissions.' };
    const text = renderText({ ...failed, lastLines: [failureLine, ...frames], failureLine });
    expect(text).toContain(
      'Last lines of its output:\n  err | Error: Use --allow-net to manage permissions.\n  …\n  err |     at frame3\n',
    );
    expect(text.trimEnd().split('\n').slice(-13)[0]).toBe(
      '  err | Error: Use --allow-net to manage permissions.',
    );
    expect(text).toMatch(/at frame13\n$/);

    const within = renderText({ ...failed, lastLines: [...frames.slice(0, 5), failureLine], failureLine });
    expect(within.match(/allow-net/g)).toHaveLength(1);
    expect(within).not.toContain('  …\n');

    // The kit's failure is its JSON line's message: that line, shown, says it already.
    const kitLine = {
      stream: 'stdout' as const,
      line: '{"level":"fatal","msg":"the start failed: \\"verbose\\" is no LOG_LEVEL"}',
    };
    const kitFailure = { stream: 'stdout' as const, line: 'the start failed: "verbose" is no LOG_LEVEL' };
    const kit = renderText({
      ...failed,
      lastLines: [kitLine, ...frames.slice(0, 3)],
      failureLine: kitFailure,
    });
    expect(kit.match(/the start failed/g)).toHaveLength(1);
    expect(kit).not.toContain('  …\n');
    expect(kit).toMatch(/at frame2\n$/);
  });

  it('leaves the output out when nothing failed', () => {
    expect(renderText(report(['pass', 'pass', 'pass', 'pass', 'warn', 'pass']))).not.toContain('Last lines');
  });
});

describe('exitCodeOf', () => {
  it('is 1 when a check failed, 0 otherwise; --strict makes warnings fail', () => {
    expect(exitCodeOf(report(['pass', 'fail']))).toBe(1);
    expect(exitCodeOf(report(['pass', 'warn', 'skip']))).toBe(0);
    expect(exitCodeOf(report(['pass', 'warn']), true)).toBe(1);
    expect(exitCodeOf(report(['pass', 'pass']), true)).toBe(0);
  });
});
