/**
 * bench/health: `/readyz` under load with a PostgreSQL probe. At two load levels (1 and 32
 * keep-alive connections, wrk), reports /readyz latency (p50, p99) and how many probe queries the
 * database saw per 1,000 health requests — for the kit (coalesced, at most one run per 1 s interval)
 * and for a hand-written endpoint that queries on every request. Target: the kit's query count is set
 * by the interval, not by the load.
 *
 *   npm run bench:health [-- --seconds 5]
 */
import { startPostgres } from '../../test/support/services/index.js';
import { argNumber } from '../lib/args.js';
import { type ChartBar, printChart } from '../lib/chart.js';
import { ensureWrk, startPinned, wrk } from '../lib/wrk.js';

const seconds = argNumber('seconds', 5);

async function main(): Promise<void> {
  await ensureWrk();
  const database = await startPostgres();
  const rows: string[] = [];
  const bars: ChartBar[] = [];
  try {
    for (const variant of [
      { name: 'kit', env: {} },
      { name: 'query per request', env: { NAIVE: '1' } },
    ]) {
      for (const connections of [1, 32]) {
        const app = await startPinned(
          new URL('apps/kit.mjs', import.meta.url).pathname,
          { DATABASE_URL: database.url, ...variant.env },
          '/queries',
        );
        try {
          const before = Number(await (await fetch(`http://127.0.0.1:${app.port}/queries`)).text());
          const result = await wrk(`http://127.0.0.1:${app.port}/readyz`, seconds, connections);
          const after = Number(await (await fetch(`http://127.0.0.1:${app.port}/queries`)).text());
          const requests = result.rps * seconds;
          bars.push({
            label: `${variant.name}, ${connections} connection${connections === 1 ? '' : 's'}`,
            value: (1000 * (after - before)) / requests,
            highlight: variant.name === 'kit',
          });
          rows.push(
            `| ${variant.name} | ${connections} | ${Math.round(result.rps)} | ${(result.p50Us / 1000).toFixed(2)} | ${(
              result.p99Us / 1000
            ).toFixed(2)} | ${after - before} | ${((1000 * (after - before)) / requests).toFixed(2)} |`,
          );
        } finally {
          await app.stop();
        }
      }
    }
  } finally {
    await database.dispose();
  }
  console.log(`\n## /readyz under load with a PostgreSQL probe (wrk, ${seconds} s per row)\n`);
  console.log(
    '| endpoint | connections | requests/s | p50 ms | p99 ms | probe queries | queries per 1,000 requests |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
  console.log(`\nkit target: about ${seconds} queries per row (one per 1 s interval), whatever the load.`);
  printChart({
    id: 'health',
    title: `/readyz with a PostgreSQL probe under load (wrk, ${seconds} s per row)`,
    unit: 'probe queries per 1,000 /readyz requests (lower is better)',
    digits: 2,
    bars,
  });
}

await main();
