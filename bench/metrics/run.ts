/**
 * bench/metrics: what the CloudWatch EMF metrics cost per request. The kit in front of a plain
 * listener and in front of Express (a route pattern, so the route lookup counts too), each with
 * metrics off and on (flushed every second, lines to stdout sent to /dev/null), request lines off in
 * all, measured with wrk in interleaved rounds, each pair off-on then on-off in turn (app pinned to
 * CPU 0, wrk to CPU 1). Reports requests/s (median, min–max) and the added µs per request of metrics
 * on over off, same app, same run.
 * The runtime metrics (`metrics.runtime`, on by default with metrics) are measured apart: the plain
 * kit with metrics on, with and without them (their cost is per flush, not per request: expected ~0).
 * Then the request hook alone, in process (two routes, one flush per million requests): ns per
 * request, which a busy machine blurs far less than the wrk figures; and one flush of the runtime
 * metrics, in µs.
 *
 *   npm run bench:metrics [-- --rounds 4 --seconds 4]   (an even number of rounds keeps the order balanced)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { MutableRequestContext } from '../../src/http/context.js';
import { RequestMetrics } from '../../src/metrics/request-metrics.js';
import { RuntimeMetricsSource } from '../../src/metrics/runtime-metrics.js';
import { argNumber } from '../lib/args.js';
import { printChart } from '../lib/chart.js';
import { ensureWrk, spread, startPinned, wrk } from '../lib/wrk.js';

const rounds = argNumber('rounds', 4);
const seconds = argNumber('seconds', 4);

const variants = [
  { name: 'kit, metrics off', script: 'kit.mjs', env: { METRICS: '0' }, path: '/' },
  { name: 'kit, metrics on', script: 'kit.mjs', env: { METRICS: '1' }, path: '/' },
  { name: 'kit, metrics on without runtime metrics', script: 'kit.mjs', env: { METRICS: '2' }, path: '/' },
  { name: 'kit + Express, metrics off', script: 'kit-express.mjs', env: { METRICS: '0' }, path: '/items/1' },
  { name: 'kit + Express, metrics on', script: 'kit-express.mjs', env: { METRICS: '1' }, path: '/items/1' },
] as const;

/** ns per request of the metrics' finish hook, median of 7 runs of a million requests. */
function hookCost(): { median: number; min: number; max: number } {
  const metrics = new RequestMetrics({ maxRoutes: 20, dimensions: { Service: 'bench' } }, { inFlight: 3 });
  const contexts = Array.from(
    { length: 64 },
    (_, i) =>
      ({
        route: i % 2 === 0 ? '/items/:id' : '/orders/:id',
        startedAt: performance.now() - (i % 7),
      }) as MutableRequestContext,
  );
  const req = { method: 'GET' } as IncomingMessage;
  const res = { statusCode: 200 } as ServerResponse;
  const runs: number[] = [];
  for (let run = 0; run < 7; run++) {
    const n = 1_000_000;
    const started = performance.now();
    for (let i = 0; i < n; i++) metrics.onFinish(contexts[i & 63]!, req, res);
    runs.push(((performance.now() - started) * 1e6) / n);
    metrics.collect([]);
  }
  return spread(runs);
}

/** µs of one collect() of the runtime metrics, median of 7 runs of 1,000 flushes. */
function runtimeFlushCost(): { median: number; min: number; max: number } {
  const source = new RuntimeMetricsSource({ Service: 'bench' });
  const runs: number[] = [];
  for (let run = 0; run < 7; run++) {
    const started = performance.now();
    for (let i = 0; i < 1_000; i++) source.collect([]);
    runs.push(performance.now() - started);
  }
  source.stop();
  return spread(runs);
}

async function main(): Promise<void> {
  await ensureWrk();
  const rps = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < rounds; round++) {
    // Off-on pairs in alternating order (off, on, then on, off): on a shared 2-core machine the
    // second run of a pair measured up to 30 % faster whichever it was, and the alternation cancels it.
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) {
      const script = new URL(`apps/${variant.script}`, import.meta.url).pathname;
      const app = await startPinned(script, variant.env, variant.path);
      try {
        const url = `http://127.0.0.1:${app.port}${variant.path}`;
        await wrk(url, 1); // warm-up
        const result = await wrk(url, seconds);
        if (result.errors > 0) throw new Error(`${variant.name}: ${result.errors} errors`);
        rps.get(variant.name)!.push(result.rps);
      } finally {
        await app.stop();
      }
    }
  }
  const median = (name: string) => spread(rps.get(name)!).median;
  const addedUs = (on: string, off: string) => 1e6 / median(on) - 1e6 / median(off);
  console.log(`\n## Metrics cost (wrk, 32 connections, ${seconds} s × ${rounds} interleaved rounds)\n`);
  console.log('| variant | requests/s (median, min–max) | added µs per request (metrics on − off) |');
  console.log('| --- | --- | --- |');
  for (const { name } of variants) {
    const s = spread(rps.get(name)!);
    const added = name.endsWith('metrics on')
      ? addedUs(name, name.replace(/on$/, 'off')).toFixed(2)
      : name.endsWith('without runtime metrics')
        ? `${addedUs(name, name.replace(/on without runtime metrics$/, 'off')).toFixed(2)} (runtime metrics: ${addedUs(
            name.replace(/ without runtime metrics$/, ''),
            name,
          ).toFixed(2)})`
        : '–';
    console.log(
      `| ${name} | ${Math.round(s.median)} (${Math.round(s.min)}–${Math.round(s.max)}) | ${added} |`,
    );
  }
  printChart({
    id: 'metrics',
    title: `Metrics: throughput with metrics off and on (${rounds} rounds)`,
    unit: 'requests/s, median with min–max (higher is better)',
    digits: 0,
    bars: variants.map(({ name }) => {
      const s = spread(rps.get(name)!);
      return { label: name, value: s.median, min: s.min, max: s.max, highlight: name.endsWith('on') };
    }),
  });
  const flush = runtimeFlushCost();
  console.log(
    `\nOne flush of the runtime metrics, in process: ${flush.median.toFixed(1)} µs (${flush.min.toFixed(1)}–${flush.max.toFixed(1)}), once per flush interval (60 s by default), whatever the traffic.`,
  );
  const hook = hookCost();
  console.log(
    `\nThe request hook alone, in process: ${hook.median.toFixed(0)} ns per request (${hook.min.toFixed(0)}–${hook.max.toFixed(0)}); it allocates nothing once a route's record exists.`,
  );
}

await main();
