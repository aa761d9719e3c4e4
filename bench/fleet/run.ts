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
 * Then the steady state over a simulated hour, from the kit's own cache and SSM provider on a clock
 * the bench moves (SecretCache with ssmProvider, against a client that answers at once and counts the
 * calls): each instance loads its references at its start, then reads each of them once a simulated
 * second. The same fleet runs with the provider's `fetchMany` taken away (each entry refreshed on its
 * own, with a jitter draw each, as the kit did before it refreshed due values together), and, as a
 * model, with a fixed TTL and no jitter: calls per second on average and at the peak, and the
 * seconds above the quota.
 *
 *   npm run bench:fleet [-- --sizes 25,100,500 --refs 20 --window-ms 10000 --budget-ms 60000
 *                          --rate 40 --burst 40 --workers 4 --ttl-s 300]
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { RedactionRegistry } from '../../src/logging/redaction.js';
import type { SecretProvider } from '../../src/secrets/provider.js';
import { ssmProvider } from '../../src/secrets/providers/ssm.js';
import { parseSecretReference } from '../../src/secrets/reference.js';
import { SecretCache } from '../../src/secrets/secret-cache.js';
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

const hourS = 3_600;

/** Calls per second over the hour, on average and at the peak, and the seconds above the quota. */
interface CallRates {
  readonly mean: number;
  readonly peak: number;
  readonly overSeconds: number;
}

function perSecondFigures(perSecond: Float64Array): CallRates {
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

/**
 * A simulated hour of `n` instances reading their secrets through the kit's cache: calls per second.
 * `batched: false` hides the provider's `fetchMany`, so each entry is refreshed on its own.
 */
async function steadyState(n: number, batched: boolean): Promise<CallRates> {
  const perSecond = new Float64Array(hourS);
  let nowMs = 0;
  const answer = async (command: { input: { Names?: string[]; Name?: string } }) => {
    const names = command.input.Names ?? [command.input.Name!];
    const Parameters = names.map((Name) => ({ Name, Value: `${Name}-value`, Type: 'String', Version: 1 }));
    return command.input.Names === undefined ? { Parameter: Parameters[0] } : { Parameters };
  };
  const awsSettings = { maxAttempts: 1, connectTimeoutMs: 1_000, requestTimeoutMs: 1_000 };
  const counted = {
    send(command: { input: { Names?: string[]; Name?: string } }) {
      perSecond[Math.floor(nowMs / 1000)]! += 1;
      return answer(command);
    },
  };
  const ssm = ssmProvider({ settings: awsSettings, client: counted });
  // Start-up loads are the table above's: made through a client that does not count.
  const loader = ssmProvider({ settings: awsSettings, client: { send: answer } });
  const provider: SecretProvider = batched
    ? ssm
    : { fetch: (reference, signal) => ssm.fetch(reference, signal) };
  const references = Array.from({ length: refs }, (_, i) =>
    parseSecretReference(`ssm:/fleet/p${String(i + 1).padStart(2, '0')}`),
  );
  const settings = {
    ttlMs: ttlS * 1000,
    maxEntries: 1_000,
    backoffBaseMs: 1_000,
    backoffMaxMs: 60_000,
    fetchTimeoutMs: 1_000,
  };
  const instances = Array.from({ length: n }, (_, i) => ({
    startMs: (windowMs * i) / n,
    cache: new SecretCache(settings, () => provider, new RedactionRegistry()),
    started: false,
  }));
  // The cache reads performance.now(): the simulation's clock while it runs.
  const realNow = performance.now;
  performance.now = () => nowMs;
  try {
    for (let second = 0; second < hourS; second++) {
      for (const instance of instances) {
        nowMs = Math.max(second * 1000, instance.startMs);
        if (!instance.started) {
          if (instance.startMs >= (second + 1) * 1000) continue;
          // The start-up load: GetParameters batches, as the secret store makes them; one draw of
          // jitter for them all, but where the bench plays the kit before batched refresh (one each).
          const fetched = await loader.fetchMany!(references, AbortSignal.timeout(1_000));
          const jitter = batched ? Math.random() : undefined;
          for (const reference of references) {
            const result = fetched.get(reference);
            if (result !== undefined && !(result instanceof Error))
              instance.cache.store(reference, result, { pinned: true }, jitter);
          }
          instance.started = true;
          continue;
        }
        for (const reference of references) instance.cache.peek(reference);
      }
      await new Promise((resolve) => setImmediate(resolve)); // the refreshes started this second answer
    }
  } finally {
    performance.now = realNow;
  }
  return perSecondFigures(perSecond);
}

/** The same fleet as a model: one call per reference, every `ttlS`, no jitter. */
function fixedTtl(n: number): CallRates {
  const perSecond = new Float64Array(hourS);
  for (let i = 0; i < n; i++) {
    for (let at = (windowMs * i) / n / 1000 + ttlS; at < hourS; at += ttlS)
      perSecond[Math.floor(at)]! += refs;
  }
  return perSecondFigures(perSecond);
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
    `\n## Steady refresh over a simulated hour (TTL ${ttlS} s, each reference read once a second)\n`,
  );
  console.log('| instances | refresh | calls/s mean | calls/s peak | seconds above the quota |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const n of sizes) {
    const schedules = [
      [
        'kit: values due together refreshed in GetParameters batches, one jitter draw per batch',
        await steadyState(n, true),
      ],
      ['each value on its own (the kit before batched refresh)', await steadyState(n, false)],
      ['model: one call per reference, fixed TTL, no jitter', fixedTtl(n)],
    ] as const;
    for (const [name, s] of schedules) {
      console.log(`| ${n} | ${name} | ${s.mean.toFixed(1)} | ${s.peak} | ${s.overSeconds} |`);
    }
  }
}

await main();
