/**
 * bench/logging: what one request line costs. The same handler bare, under apprunner-kit with the
 * request line off and on, and under pino-http, each logging to stdout (sent to /dev/null), measured
 * with wrk in interleaved rounds (app pinned to CPU 0, wrk to CPU 1). Reports requests/s (median,
 * min–max), the added cost per request in µs against the bare handler, and the request line's own
 * cost (the kit with the line on, over the kit with it off) as a ratio of pino-http's; then what
 * three `debug` lines per request cost when dropped by the level, held by `logging.buffer` (and
 * dropped when the request ends well), and written. Then, in process, what the kit's `logMethod`
 * hook costs a log call (log-call.ts).
 *
 *   npm run bench:logging [-- --rounds 3 --seconds 5]
 */
import { argNumber } from '../lib/args.js';
import { printChart } from '../lib/chart.js';
import { ensureWrk, spread, startPinned, wrk } from '../lib/wrk.js';
import { printLogCallCost } from './log-call.js';

const rounds = argNumber('rounds', 3);
const seconds = argNumber('seconds', 5);

const variants = [
  { name: 'bare', script: 'bare.mjs', env: {} },
  { name: 'kit, request line off', script: 'kit.mjs', env: { REQUESTS: '0' } },
  { name: 'kit, request line on', script: 'kit.mjs', env: {} },
  { name: "kit, request line on, pino's sync destination", script: 'kit-sync.mjs', env: {} },
  { name: 'pino-http', script: 'pino-http.mjs', env: {} },
  { name: 'kit, 3 debug lines, level info', script: 'kit.mjs', env: { DEBUG_LINES: '3' } },
  { name: 'kit, 3 debug lines held (buffer)', script: 'kit.mjs', env: { DEBUG_LINES: '3', BUFFER: '1' } },
  {
    name: 'kit, 3 debug lines written (level debug)',
    script: 'kit.mjs',
    env: { DEBUG_LINES: '3', LOG_LEVEL: 'debug' },
  },
] as const;

async function main(): Promise<void> {
  await ensureWrk();
  const rps = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) {
      const app = await startPinned(new URL(`apps/${variant.script}`, import.meta.url).pathname, variant.env);
      try {
        await wrk(`http://127.0.0.1:${app.port}/`, 1); // warm-up
        const result = await wrk(`http://127.0.0.1:${app.port}/`, seconds);
        if (result.errors > 0) throw new Error(`${variant.name}: ${result.errors} errors`);
        rps.get(variant.name)!.push(result.rps);
      } finally {
        await app.stop();
      }
    }
  }
  const bare = spread(rps.get('bare')!).median;
  const costUs = (name: string) => 1e6 / spread(rps.get(name)!).median - 1e6 / bare;
  console.log(
    `\n## Request logging cost (wrk, 32 connections, ${seconds} s × ${rounds} interleaved rounds)\n`,
  );
  console.log('| variant | requests/s (median, min–max) | × bare | added µs per request |');
  console.log('| --- | --- | --- | --- |');
  for (const { name } of variants) {
    const s = spread(rps.get(name)!);
    console.log(
      `| ${name} | ${Math.round(s.median)} (${Math.round(s.min)}–${Math.round(s.max)}) | ${(s.median / bare).toFixed(2)} | ${
        name === 'bare' ? '–' : costUs(name).toFixed(1)
      } |`,
    );
  }
  printChart({
    id: 'logging',
    title: `Request logging: throughput against the bare handler (${rounds} rounds)`,
    unit: 'requests/s as a multiple of bare, median with min–max (higher is better)',
    digits: 2,
    marker: { value: 1, label: 'bare' },
    bars: variants.map(({ name }) => {
      const s = spread(rps.get(name)!);
      const ratio = { value: s.median / bare, min: s.min / bare, max: s.max / bare };
      return { label: name, ...ratio, highlight: name.startsWith('kit') };
    }),
  });
  // Each request line's own cost, over the stack it runs on: the kit's over the kit with the line off,
  // pino-http's over the bare handler.
  const kitLine = costUs('kit, request line on') - costUs('kit, request line off');
  const pinoHttp = costUs('pino-http');
  console.log(
    `\nrequest line alone: kit ${kitLine.toFixed(1)} µs, pino-http ${pinoHttp.toFixed(1)} µs per request: ${(
      kitLine / pinoHttp
    ).toFixed(
      2,
    )}× (target: below 1). Kit in all, request line on: ${costUs('kit, request line on').toFixed(1)} µs.`,
  );
  const overLine = (name: string) => (costUs(name) - costUs('kit, request line on')).toFixed(1);
  console.log(
    `three debug lines per request, over the request line: ${overLine('kit, 3 debug lines, level info')} µs dropped by the level, ${overLine('kit, 3 debug lines held (buffer)')} µs held and dropped (logging.buffer), ${overLine('kit, 3 debug lines written (level debug)')} µs written.`,
  );
  printLogCallCost(7);
}

await main();
