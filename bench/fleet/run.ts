/**
 * bench/fleet: a deployment of N instances loading their secrets at once against a shared SSM quota.
 * The test kit's AWS endpoint on 127.0.0.1 applies a token bucket to every SSM call together, as AWS
 * does per account and region (40 calls a second, burst 40, by default). N instances (kit secret
 * stores, spread over a few processes, each with its own SDK client and connections) start at even
 * intervals over a window, each with REFS SSM references; the same fleet runs once with the kit and
 * once with a naive loader (one GetParameter per reference, the SDK's default retry: 3 attempts).
 * Reports per N: time from an instance's start until it is ready (p50, p99, max), failed starts, AWS
 * calls and throttled calls.
 *
 * Then the steady state over a simulated hour, from the kit's own refresh schedule (refreshAfterMs:
 * the TTL minus up to 20 % jitter, drawn again at each refresh) against a cache without jitter:
 * calls per second at the peak, and the seconds above the quota.
 *
 *   npm run bench:fleet [-- --sizes 25,100,500 --refs 20 --window-ms 10000 --budget-ms 60000
 *                          --rate 40 --burst 40 --workers 4 --ttl-s 300]
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { refreshAfterMs } from '../../src/secrets/secret-cache.js';
import { applyEnv, awsClientEnv, startAwsEndpoint } from '../../test/support/aws-endpoint.js';
import { argNumber, argString } from '../lib/args.js';
import { resultLine } from '../lib/result.js';

const sizes = argString('sizes', '25,100,500').split(',').map(Number);
const refs = argNumber('refs', 20);
const windowMs = argNumber('window-ms', 10_000);
const budgetMs = argNumber('budget-ms', 60_000);
const rate = argNumber('rate', 40);
const burst = argNumber('burst', 40);
const workers = argNumber('workers', 4);
const ttlS = argNumber('ttl-s', 300);
const worker = new URL('worker.mjs', import.meta.url).pathname;

interface InstanceResult {
  readonly ok: boolean;
  readonly readyMs: number;
  readonly error?: string;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs `n` instances with `loader`, spread over the window across the worker processes. */
async function fleet(n: number, loader: 'kit' | 'naive'): Promise<InstanceResult[]> {
  const offsets: number[][] = Array.from({ length: workers }, () => []);
  for (let i = 0; i < n; i++) offsets[i % workers]!.push((windowMs * i) / n);
  const results: InstanceResult[] = [];
  await Promise.all(
    offsets.map(
      (mine) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [worker], {
            env: {
              ...process.env,
              LOADER: loader,
              INSTANCES: JSON.stringify(mine),
              REFS: String(refs),
              BUDGET_MS: String(budgetMs),
            },
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          createInterface({ input: child.stdout! }).on('line', (line) => {
            if (line.startsWith('{')) results.push(JSON.parse(line) as InstanceResult);
          });
          child.on('error', reject);
          child.on('exit', () => resolve());
        }),
    ),
  );
  return results;
}

/** Calls per second over a simulated hour of refreshes: `jitter` uses the kit's schedule, else a fixed TTL. */
function steadyState(
  n: number,
  callsPerRefresh: number,
  jitter: boolean,
): { peak: number; overSeconds: number; mean: number } {
  const hourS = 3_600;
  const perSecond = new Float64Array(hourS);
  for (let i = 0; i < n; i++) {
    // One schedule per reference: the kit's cache refreshes each entry on its own.
    for (let r = 0; r < refs / callsPerRefresh; r++) {
      let at = (windowMs * i) / n / 1000 + (jitter ? refreshAfterMs(ttlS * 1000) / 1000 : ttlS);
      while (at < hourS) {
        perSecond[Math.floor(at)]! += callsPerRefresh;
        at += jitter ? refreshAfterMs(ttlS * 1000) / 1000 : ttlS;
      }
    }
  }
  let peak = 0;
  let overSeconds = 0;
  let total = 0;
  for (const calls of perSecond) {
    peak = Math.max(peak, calls);
    if (calls > rate) overSeconds++;
    total += calls;
  }
  return { peak, overSeconds, mean: total / hourS };
}

async function main(): Promise<void> {
  const endpoint = await startAwsEndpoint();
  const restore = applyEnv(awsClientEnv(endpoint));
  for (let i = 1; i <= refs; i++)
    endpoint.putParameter(`/fleet/p${String(i).padStart(2, '0')}`, `value-${i}`, { type: 'SecureString' });
  const rows: string[] = [];
  try {
    for (const n of sizes) {
      for (const loader of ['kit', 'naive'] as const) {
        endpoint.resetCalls();
        endpoint.setQuota('ssm', { ratePerSecond: rate, burst });
        const started = performance.now();
        const results = await fleet(n, loader);
        const wallS = (performance.now() - started) / 1000;
        const ready = results
          .filter((r) => r.ok)
          .map((r) => r.readyMs / 1000)
          .sort((a, b) => a - b);
        const failed = results.filter((r) => !r.ok).length;
        const calls = endpoint.calls();
        const throttled = endpoint.throttled();
        rows.push(
          `| ${n} | ${loader} | ${percentile(ready, 50).toFixed(2)} | ${percentile(ready, 99).toFixed(2)} | ${(ready.at(-1) ?? Number.NaN).toFixed(2)} | ${failed} | ${calls} | ${throttled} | ${wallS.toFixed(1)} |`,
        );
        console.log(
          resultLine({
            bench: 'fleet',
            node: process.version,
            framework: 'none',
            variant: `${loader}-${n}`,
            ratio: failed / n,
          }),
        );
        console.error(
          `fleet ${n} ${loader}: ${failed} failed of ${results.length}, ${calls} calls, ${throttled} throttled, ${wallS.toFixed(1)} s`,
        );
      }
    }
  } finally {
    restore();
    await endpoint.close();
  }
  console.log(
    `\n## Fleet start-up under a shared SSM quota (${rate}/s, burst ${burst}; ${refs} SSM references per instance; instances start evenly over ${windowMs / 1000} s; kit start-up budget ${budgetMs / 1000} s)\n`,
  );
  console.log(
    '| instances | loader | ready p50 s | ready p99 s | ready max s | failed starts | AWS calls | throttled | run s |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
  console.log(
    `\n## Steady refresh over a simulated hour (TTL ${ttlS} s, one call per reference per refresh)\n`,
  );
  console.log('| instances | schedule | calls/s mean | calls/s peak | seconds above the quota |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const n of sizes) {
    for (const jitter of [true, false]) {
      const s = steadyState(n, 1, jitter);
      console.log(
        `| ${n} | ${jitter ? 'kit (TTL − up to 20 %, drawn at each refresh)' : 'fixed TTL, no jitter'} | ${s.mean.toFixed(1)} | ${s.peak} | ${s.overSeconds} |`,
      );
    }
  }
}

await main();
