/**
 * bench/shutdown: the same keep-alive load (32 connections, back-to-back requests) on the same app,
 * shut down with SIGTERM under apprunner-kit and under each peer, interleaved run by run. Reports per
 * run the requests that failed although sent on an already-open connection (the keep-alive race:
 * the proxy in front answers those with 502), the requests served, the new connections refused once
 * the server stopped accepting (expected: a proxy retries them elsewhere), and the time to exit.
 *
 *   npm run bench:shutdown [-- --runs 5]
 */
import { killApps, startApp } from '../../test/support/app-process.js';
import { keepAliveLoad } from '../../test/support/load.js';
import { argNumber } from '../lib/args.js';
import { printChart } from '../lib/chart.js';
import { spread } from '../lib/stats.js';

const implementations = [
  'kit',
  'server-close',
  'terminus',
  'http-terminator',
  'stoppable',
  'close-with-grace',
  'lightship',
];
const runs = argNumber('runs', 5);
const loadBeforeSignalMs = 300;

interface Run {
  readonly failed: number;
  readonly served: number;
  readonly refused: number;
  readonly exitMs: number;
  readonly exit: string;
}

async function once(name: string): Promise<Run> {
  const app = await startApp(new URL(`apps/${name}.mjs`, import.meta.url).pathname);
  const exited = app.exit(0);
  const load = keepAliveLoad(app.port, { connections: 32, until: exited, maxMs: 15_000 });
  await new Promise((resolve) => setTimeout(resolve, loadBeforeSignalMs));
  const signalledAt = app.signal('SIGTERM');
  const report = await load;
  const { code } = await exited;
  const { elapsedMs } = await app.exit(signalledAt);
  const signal = app.child.signalCode;
  return {
    failed: report.failedOnOpenConnections,
    served: report.succeeded,
    refused: report.failedNewConnections,
    exitMs: Math.round(elapsedMs),
    exit: code === null ? String(signal) : String(code),
  };
}

async function main(): Promise<void> {
  const results = new Map<string, Run[]>(implementations.map((name) => [name, []]));
  for (let run = 0; run < runs; run++) {
    for (const name of implementations) results.get(name)!.push(await once(name));
  }
  killApps();

  console.log(
    `\n## Shutdown under keep-alive load (32 connections, SIGTERM after ${loadBeforeSignalMs} ms, ${runs} runs)\n`,
  );
  console.log(
    '| implementation | failed on open connections, per run | median failed | served (median) | refused new (median) | time to exit, ms (median, min–max) | exit |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, list] of results) {
    const exits = spread(list.map((r) => r.exitMs));
    console.log(
      `| ${name} | ${list.map((r) => r.failed).join(' ')} | ${spread(list.map((r) => r.failed)).median} | ${
        spread(list.map((r) => r.served)).median
      } | ${spread(list.map((r) => r.refused)).median} | ${exits.median} (${exits.min}–${exits.max}) | ${[
        ...new Set(list.map((r) => r.exit)),
      ].join(', ')} |`,
    );
  }
  const kitFailures = results.get('kit')!.reduce((sum, r) => sum + r.failed, 0);
  console.log(`\nkit: ${kitFailures} failed request(s) on open connections over ${runs} runs (target: 0)`);
  printChart({
    id: 'shutdown-failed',
    title: `Shutdown under keep-alive load: failed requests on open connections (${runs} runs)`,
    unit: 'requests failed on already-open connections per shutdown, median with min–max (lower is better)',
    digits: 0,
    bars: [...results].map(([name, list]) => {
      const { median, min, max } = spread(list.map((r) => r.failed));
      return { label: name, value: median, min, max, highlight: name === 'kit' };
    }),
  });
}

await main();
