import type { DrainObservation } from './drain-run.js';
import { hostPort, plural, seconds } from './format.js';
import { describeExit } from './grade-startup.js';
import { launcherHint } from './launcher-hint.js';
import { type CheckResult, checkRow } from './report.js';

function tally(errors: Readonly<Record<string, number>>): string {
  return Object.entries(errors)
    .map(([error, n]) => `${error} ×${n}`)
    .join(', ');
}

const title = 'drains on SIGTERM under keep-alive load';

/**
 * Grades the stop: `fail` when a request sent on an open connection got no answer (App Runner's
 * proxy would answer 502), when the app closed idle connections at once without saying so (the
 * keep-alive race), or when it was still running when the grace window ended (SIGKILL);
 * `warn` for a non-zero exit, an exit by SIGTERM's default action (no handler), 5xx answers, failed
 * new connections, a drain that could not be measured under load, or idle connections that closed
 * while the checker was held up, at once or not as far as it can tell; `pass` otherwise. A hint that
 * blames a wrapper names the launcher of `command` (npm, `node --run`, pm2, `sh -c`) when it is one.
 */
export function gradeDrain(
  drain: DrainObservation | undefined,
  skipped: string,
  command: readonly string[] = [],
): CheckResult {
  if (drain === undefined) {
    return { id: 'drain', title, status: 'skip', summary: skipped, figures: {} };
  }
  const r = drain.requests;
  const figures = {
    endpoint: drain.endpoint === undefined ? null : hostPort(drain.endpoint),
    requests: r.sent,
    onOpenConnections: r.onOpenConnections,
    failedOnOpenConnections: r.failedOnOpenConnections,
    refusedNewConnections: r.refusedNewConnections,
    failedNewConnections: r.failedNewConnections,
    failedBeforeSignal: r.failedBeforeSignal,
    status5xx: r.status5xx,
    errors: tally(r.errors),
    errorsOnOpenConnections: tally(r.errorsOnOpenConnections),
    closedAtOnce: r.closedAtOnce,
    closedUncertain: r.closedUncertain,
    inFlightAtSignal: drain.inFlightAtSignal,
    exitCode: drain.exit?.code ?? null,
    exitSignal: drain.exit?.signal ?? null,
    exitAfterMs: drain.exitAfterMs ?? null,
    aliveAtGrace: drain.aliveAtGrace,
    graceMs: drain.graceMs,
  };
  const row = checkRow('drain', title, figures);
  if (!drain.signalled) {
    const exit =
      drain.exit === undefined
        ? ''
        : ` (${describeExit(drain.exit)}, ${seconds(drain.exit.atMs)} after start)`;
    return row('fail', `exited on its own before SIGTERM${exit}`, 'see the last lines of its output');
  }

  const exitText =
    drain.exit === undefined
      ? 'did not exit even after SIGKILL'
      : drain.aliveAtGrace
        ? `still running ${seconds(drain.graceMs)} after SIGTERM: SIGKILLed`
        : `exited (${describeExit(drain.exit)}) ${seconds(drain.exitAfterMs ?? 0)} after SIGTERM, grace ${seconds(drain.graceMs)}`;
  const loadText =
    drain.endpoint === undefined
      ? `no load (${drain.loadSkipped ?? 'not reachable'})`
      : `SIGTERM with ${drain.inFlightAtSignal} in flight: ${r.failedOnOpenConnections} of ${plural(r.onOpenConnections, 'request')} on open connections failed${r.failedOnOpenConnections > 0 ? ` (${figures.errorsOnOpenConnections})` : ''}`;
  // Counted neither way, but said: a drain with such closes is not graded pass.
  const uncertainText =
    r.closedUncertain > 0
      ? `; ${plural(r.closedUncertain, 'idle connection')} closed after SIGTERM, without Connection: close, while the checker was held up: at once or after a grace, it cannot tell`
      : '';
  const summary = `${loadText}; ${exitText}${uncertainText}`;
  const launcher = launcherHint(command);

  if (r.failedOnOpenConnections > 0) {
    return row(
      'fail',
      summary,
      launcher ??
        'on SIGTERM stop accepting, answer what arrives on open connections with Connection: close, close idle ones after a short grace, then exit (bootstrapAppRunner does); a wrapper (npm start, sh -c) must pass SIGTERM on to the server: run node itself, or exec it',
    );
  }
  if (r.closedAtOnce > 0) {
    // Killed by the signal itself: what closed the connections is most likely a wrapper's death.
    const killed = drain.exit?.signal === 'SIGTERM';
    return row(
      'fail',
      `${summary}; ${plural(r.closedAtOnce, 'idle connection')} closed at once after SIGTERM, without Connection: close`,
      killed
        ? (launcher ??
            "the process died of SIGTERM's default action, closing every connection (a 502 for a proxy's next request): behind a wrapper such as npm start or sh -c, the wrapper died, not the server: run node itself, or exec it; a node:cluster primary that only forks died, and Node ended its workers with it: call runCluster() in the primary; otherwise handle SIGTERM (bootstrapAppRunner does)")
        : "a proxy's next request on a connection the app closes as it goes out is lost (a 502): close an idle connection only after a short grace, answer what arrives with Connection: close, then exit (bootstrapAppRunner does)",
    );
  }
  if (drain.aliveAtGrace) {
    return row(
      'fail',
      summary,
      `exit within the grace window: handle SIGTERM and bound the shutdown (--grace ${seconds(drain.graceMs)}; ECS and Kubernetes default to 30 s, App Runner does not document its window)`,
    );
  }
  if (drain.exit?.signal === 'SIGTERM') {
    return row(
      'warn',
      `${summary}: killed by SIGTERM's default action, nothing drained`,
      launcher ??
        "handle SIGTERM (or, behind a wrapper such as npm start or sh -c, run node itself, or exec it: the wrapper died of the signal, not the server); as a container's main process (PID 1) an app without a handler ignores SIGTERM and is killed after the window",
    );
  }
  if (drain.exit !== undefined && drain.exit.code !== 0) {
    return row(
      'warn',
      summary,
      'exit 0 after a clean shutdown: a non-zero code reads as a crash in the logs',
    );
  }
  if (drain.endpoint === undefined) {
    return row('warn', summary, 'the drain was not measured under load');
  }
  if (r.status5xx > 0 || r.failedNewConnections > 0) {
    const parts = [
      r.status5xx > 0 ? `${plural(r.status5xx, '5xx answer')}` : '',
      r.failedNewConnections > 0 ? `${plural(r.failedNewConnections, 'new connection')} reset` : '',
    ].filter((p) => p !== '');
    return row(
      'warn',
      `${summary}; ${parts.join(', ')}`,
      'check the load path (--load-path) answers without errors',
    );
  }
  if (r.closedUncertain > 0) {
    return row(
      'warn',
      summary,
      'run the check again on a less busy machine: its own process was not scheduled while the connections closed, so it could not tell whether they closed at once (the keep-alive race) or after a grace',
    );
  }
  return row('pass', summary);
}
