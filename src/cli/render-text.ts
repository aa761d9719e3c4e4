import { startProbeIntervalMs } from './check-options.js';
import { seconds, shellQuote } from './format.js';
import type { TailLine } from './output-capture.js';
import type { CheckReport, CheckStatus } from './report.js';

// The table shows the end of the tail, cut to a terminal's width, and the line that says what failed
// where the end leaves it out (Node's print of an uncaught error runs 15 to 30 lines); --json carries all of it.
const shownLines = 12;
const shownLineLength = 200;

const labels: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

/**
 * Renders a report as the table `apprunner-kit check` prints: one row per check (grade, check,
 * figures), a hint under each warn or fail, the totals, and — when a check failed — the app's last
 * lines of output.
 *
 * @example
 * ```ts
 * process.stdout.write(renderText(await runCheck(options)));
 * ```
 */
export function renderText(report: CheckReport): string {
  const health = report.health;
  const healthText = health.protocol === 'http' ? `HTTP GET ${health.path}` : 'TCP';
  const out: string[] = [
    `apprunner-kit check: ${shellQuote(report.command)}`,
    `  PORT=${report.port}, cwd ${report.cwd}`,
    `  health ${healthText}: interval ${health.intervalS} s, timeout ${health.timeoutS} s, healthy ${health.healthyThreshold}, unhealthy ${health.unhealthyThreshold} (probed here every ${Math.min(startProbeIntervalMs, report.probeIntervalMs)} ms while starting, then every ${report.probeIntervalMs} ms)`,
    `  SIGTERM under ${report.load.connections} keep-alive connections (≤ ${report.load.requests} requests to ${report.load.path}), SIGKILL ${seconds(report.graceMs)} later`,
    '',
  ];
  const width = Math.max(...report.checks.map((c) => c.id.length));
  for (const check of report.checks) {
    out.push(`  ${labels[check.status]}  ${check.id.padEnd(width)}  ${check.summary}`);
    if (check.hint !== undefined && (check.status === 'warn' || check.status === 'fail')) {
      out.push(`  ${' '.repeat(4 + 2 + width)}  → ${check.hint}`);
    }
  }
  const { pass, warn, fail, skip } = report.counts;
  out.push(
    '',
    `${pass} passed, ${warn} ${warn === 1 ? 'warning' : 'warnings'}, ${fail} failed${skip > 0 ? `, ${skip} skipped` : ''} in ${seconds(report.durationMs)}`,
  );
  for (const note of report.notes) out.push(`note: ${note}`);
  if (fail > 0) {
    out.push('', report.lastLines.length === 0 ? 'The app wrote no output.' : 'Last lines of its output:');
    const shown = report.lastLines.slice(-shownLines);
    const failure = report.failureLine;
    // The kit's failure is its JSON line's message: shown when that line is (its message uncut).
    const escaped = failure === null ? '' : JSON.stringify(failure.line).slice(1, -1);
    if (failure !== null && !shown.some(({ line }) => line === failure.line || line.includes(escaped))) {
      out.push(outputLine(failure));
      if (shown.length === shownLines) shown.shift();
      if (report.lastLines.length > shown.length) out.push('  …');
    }
    for (const line of shown) out.push(outputLine(line));
  }
  return `${out.join('\n')}\n`;
}

function outputLine({ stream, line }: TailLine): string {
  const cut = line.length > shownLineLength ? `${line.slice(0, shownLineLength - 1)}…` : line;
  return `  ${stream === 'stderr' ? 'err' : 'out'} | ${cut}`;
}
