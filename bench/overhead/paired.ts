/**
 * bench/overhead, paired: the kit's added CPU per request with less noise than separate rounds. Every
 * variant's app runs for the whole measurement (pinned to CPU 0, warmed once), and wrk (CPU 1) loads
 * them in turn, one short burst each, round after round in a rotated order. Each round's figure is a
 * variant's CPU per request minus bare's in the same round, so a drift of the machine's speed over
 * the run (another tenant, a frequency change) falls on both sides of the difference; the median of
 * the rounds' differences is reported, with the interquartile range as its spread.
 * `bare-1us` (1 µs of busy work per request) says what 1 µs reads as on this machine, at this load.
 *
 * `--pace 2`: each of wrk's 32 connections waits 2 ms before each request (bench/lib/paced.lua), so
 * every variant serves the same request rate, near 16,000/s, below saturation: the regime of most
 * apps, where nothing is batched across requests and each request pays for all of its own work.
 * `--reference bare-4us` adds, for each variant, its difference from that variant round by round: the
 * bare app doing 4 µs of busy work per request pays, like the kit, for what its work does to the
 * batching of requests at this load, so a kit variant that reads below it costs less than 4 µs of
 * the app's own work would. A busy-wait loop spends 4 µs whatever the caches do; real code does not:
 * `--reference bare-pino` (the bare app writing one pino line of its own per request) compares the kit
 * with work of its own kind, which pays, like the kit's code, for the framework's footprint.
 * `--reference floor` compares the kit with the least code that does its per-request work (a context,
 * an id echoed, a request line; see app.mjs): what the kit adds over what those features cost at least.
 * A variant may name another build of the kit, `kit-on@path/to/dist/index.js` (the app imports it
 * instead of this checkout's): two builds compared in one run, round by round.
 *
 *   npm run bench:overhead:paired [-- --frameworks node,express --rounds 24 --seconds 1 --node 26
 *                                    --variants bare-1us,kit-off,kit-on,kit-on-no-echo]
 */
import { argNumber, argString } from '../lib/args.js';
import { appNodeLine } from '../lib/node-line.js';
import { resultLine } from '../lib/result.js';
import { quantile, signed } from '../lib/stats.js';
import { cpuTimes, ensureWrk, type PinnedApp, pinHarness, startPinned, wrk } from '../lib/wrk.js';
import { variantEnv } from './variant.js';

const rounds = argNumber('rounds', 24);
const seconds = argNumber('seconds', 1);
const frameworks = argString('frameworks', 'node').split(',');
const variants = argString('variants', 'bare-1us,kit-off,kit-on,kit-on-no-echo')
  .split(',')
  .filter((v) => v !== '' && v !== 'bare');
const reference = argString('reference');
if (reference !== undefined && !variants.includes(reference)) variants.push(reference);
const app = new URL('app.mjs', import.meta.url).pathname;
const pace = argString('pace');
const pacedScript = new URL('../lib/paced.lua', import.meta.url).pathname;
if (pace !== undefined) process.env.PACE_MS = pace; // read by paced.lua in wrk, which inherits it

/**
 * The cells of a variant's difference from the reference: median, rounds in which it was below, and
 * the median of the same difference in user-space CPU alone.
 */
function referenceCells(differences: readonly number[], userDifferences: readonly number[]): string {
  const below = differences.filter((d) => d < 0).length;
  return ` ${signed(quantile(differences, 0.5), 2)} | ${below} of ${differences.length} | ${signed(
    quantile(userDifferences, 0.5),
    2,
  )} |`;
}

/** One burst of wrk against `started`: its CPU µs per request (all, and user space), requests/s. */
async function burst(started: PinnedApp, name: string): Promise<{ cpu: number; user: number; rps: number }> {
  const before = cpuTimes(started.child.pid!);
  const result = await wrk(
    `http://127.0.0.1:${started.port}/`,
    seconds,
    32,
    pace === undefined ? undefined : pacedScript,
  );
  const after = cpuTimes(started.child.pid!);
  if (result.errors > 0) throw new Error(`${name}: ${result.errors} errors`);
  const user = after.user - before.user;
  return {
    cpu: (user + after.system - before.system) / result.requests,
    user: user / result.requests,
    rps: result.rps,
  };
}

async function measure(framework: string, nodeVersion: string): Promise<string[]> {
  const names = ['bare', ...variants];
  const apps = new Map<string, PinnedApp>();
  try {
    for (const variant of names) apps.set(variant, await startPinned(app, variantEnv(framework, variant)));
    for (const variant of names) await wrk(`http://127.0.0.1:${apps.get(variant)!.port}/`, 2);
    const added = new Map<string, number[]>(variants.map((v) => [v, []]));
    const rps = new Map<string, number[]>(names.map((v) => [v, []]));
    const bareCpu: number[] = [];
    /** Per variant, its CPU per request minus the reference variant's, round by round. */
    const overReference = new Map<string, number[]>(variants.map((v) => [v, []]));
    /** The same in user-space CPU alone. */
    const userOverReference = new Map<string, number[]>(variants.map((v) => [v, []]));
    for (let round = 0; round < rounds; round++) {
      const order = names.map((_, i) => names[(i + round) % names.length]!);
      const cpu = new Map<string, number>();
      const user = new Map<string, number>();
      for (const variant of order) {
        const result = await burst(apps.get(variant)!, `${framework}/${variant}`);
        cpu.set(variant, result.cpu);
        user.set(variant, result.user);
        rps.get(variant)!.push(result.rps);
      }
      bareCpu.push(cpu.get('bare')!);
      for (const variant of variants) {
        added.get(variant)!.push(cpu.get(variant)! - cpu.get('bare')!);
        if (reference !== undefined) {
          overReference.get(variant)!.push(cpu.get(variant)! - cpu.get(reference)!);
          userOverReference.get(variant)!.push(user.get(variant)! - user.get(reference)!);
        }
      }
    }
    const lines = [
      `\n### ${framework} on Node ${nodeVersion} (paired: wrk, 32 connections${
        pace === undefined ? ' at saturation' : `, each pausing ${pace} ms before each request`
      }, ${rounds} rounds of ${seconds} s bursts, every app alive throughout)\n`,
      `| variant | requests/s (median) | added CPU µs per request (median of the rounds) | interquartile range |${
        reference === undefined
          ? ''
          : ` µs over ${reference} (median) | rounds below ${reference} | user-space µs over ${reference} (median) |`
      }`,
      `| --- | --- | --- | --- |${reference === undefined ? '' : ' --- | --- | --- |'}`,
      `| bare | ${Math.round(quantile(rps.get('bare')!, 0.5))} | – (bare: ${quantile(bareCpu, 0.5).toFixed(1)} µs) | ${quantile(bareCpu, 0.25).toFixed(1)} – ${quantile(bareCpu, 0.75).toFixed(1)} |${
        reference === undefined ? '' : ' | | |'
      }`,
    ];
    for (const variant of variants) {
      const d = added.get(variant)!;
      const median = quantile(d, 0.5);
      lines.push(
        `| ${variant} | ${Math.round(quantile(rps.get(variant)!, 0.5))} | ${signed(median, 2)} | ${quantile(d, 0.25).toFixed(2)} – ${quantile(d, 0.75).toFixed(2)} |${
          reference === undefined || variant === reference
            ? reference === undefined
              ? ''
              : ' | | |'
            : referenceCells(overReference.get(variant)!, userOverReference.get(variant)!)
        }`,
      );
      lines.push(
        resultLine({
          bench: 'overhead-paired',
          node: nodeVersion,
          framework,
          variant,
          addedCpuUs: median,
          bareCpuUs: quantile(bareCpu, 0.5),
        }),
      );
    }
    return lines;
  } finally {
    for (const started of apps.values()) await started.stop();
  }
}

async function main(): Promise<void> {
  await ensureWrk();
  pinHarness();
  const { version } = appNodeLine();
  const lines: string[] = [];
  for (const framework of frameworks) lines.push(...(await measure(framework, version)));
  console.log(`\n## Per-request overhead on Node ${version}, paired rounds`);
  for (const line of lines) console.log(line);
  console.log(
    '\ntargets (Node 24 and 26): added app CPU per request over bare ≤ 1.5 µs with the request line off, ≤ 4 µs on',
  );
}

await main();
