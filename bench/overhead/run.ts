/**
 * bench/overhead: what the kit adds per request on each framework. Per framework, the same app bare,
 * under the kit with the request line off, on (and on without the request id echo header), and on
 * with OpenTelemetry tracing exporting to a local OTLP receiver; for Express also the hand-assembled stack (pino-http + aws-xray-sdk-express +
 * terminus). wrk and this harness (with its OTLP sink) pinned to CPU 1, the app to CPU 0,
 * interleaved rounds; medians with min–max, added µs per request and the ratio to bare.
 * `bare-1us` (node and express) is the bare app with 1 µs of busy work per request: what 1 µs of
 * work reads as here, for at saturation work added per request costs more than itself (fewer
 * requests share each event-loop turn and each wake-up of the load generator). A shorter autocannon
 * pass on Express checks wrk's figures (`--autocannon false` skips it).
 * `--node 22` runs the apps on another Node.js line (scripts/node.sh), the harness staying where it is.
 * Each figure is also printed as a `bench-result:` line, which bench/run-all.ts gathers into the
 * table of every Node.js line side by side.
 *
 *   npm run bench:overhead [-- --rounds 3 --seconds 3 --frameworks node,express --node 26
 *                             --variants kit-on,kit-on-no-echo]
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { argNumber, argString } from '../lib/args.js';
import { chartLine } from '../lib/chart.js';
import { appNodeLine } from '../lib/node-line.js';
import { startOtlpSink } from '../lib/otlp-sink.js';
import { resultLine } from '../lib/result.js';
import { signed } from '../lib/stats.js';
import { cpuMicros, ensureWrk, pinHarness, spread, startPinned, wrk } from '../lib/wrk.js';

const run = promisify(execFile);
const rounds = argNumber('rounds', 3);
const seconds = argNumber('seconds', 3);
const frameworks = argString('frameworks', 'node,express,fastify,koa').split(',');
const app = new URL('app.mjs', import.meta.url).pathname;
const withAutocannon = argString('autocannon', 'true') !== 'false';
/** `--variants kit-on,kit-on-no-echo`: only these (and bare, the baseline); all when absent. */
const onlyVariants = argString('variants', '')
  .split(',')
  .filter((v) => v !== '');

/** Requests/s and the app's CPU µs per request, for one variant. */
async function measure(
  framework: string,
  variant: string,
  env: Record<string, string>,
): Promise<{ rps: number; cpu: number }> {
  const started = await startPinned(app, { FRAMEWORK: framework, VARIANT: variant, ...env });
  try {
    await wrk(`http://127.0.0.1:${started.port}/`, 1);
    const before = cpuMicros(started.child.pid!);
    const result = await wrk(`http://127.0.0.1:${started.port}/`, seconds);
    const used = cpuMicros(started.child.pid!) - before;
    if (result.errors > 0) throw new Error(`${framework}/${variant}: ${result.errors} errors`);
    return { rps: result.rps, cpu: used / (result.rps * seconds) };
  } finally {
    await started.stop();
  }
}

async function autocannonRps(framework: string, variant: string): Promise<number> {
  const started = await startPinned(app, { FRAMEWORK: framework, VARIANT: variant });
  try {
    const { stdout } = await run('taskset', [
      '-c',
      '1',
      process.execPath,
      'node_modules/autocannon/autocannon.js',
      '-c',
      '32',
      '-d',
      String(seconds),
      '-j',
      `http://127.0.0.1:${started.port}/`,
    ]);
    return (JSON.parse(stdout) as { requests: { average: number } }).requests.average;
  } finally {
    await started.stop();
  }
}

async function main(): Promise<void> {
  await ensureWrk();
  pinHarness();
  const { version: nodeVersion, major: nodeMajor } = appNodeLine();
  const sink = await startOtlpSink();
  const otelEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' };
  const lines: string[] = [];
  const summary: string[] = [];
  try {
    for (const framework of frameworks) {
      const variants = [
        'bare',
        ...(framework === 'node' || framework === 'express' ? ['bare-1us'] : []),
        'kit-off',
        'kit-on',
        'kit-on-no-echo',
        'kit-otel',
        'kit-metrics',
        ...(framework === 'express' ? ['stack'] : []),
      ].filter((v) => onlyVariants.length === 0 || v === 'bare' || onlyVariants.includes(v));
      const rps = new Map<string, number[]>(variants.map((v) => [v, []]));
      const cpu = new Map<string, number[]>(variants.map((v) => [v, []]));
      for (let round = 0; round < rounds; round++) {
        for (const variant of variants) {
          const result = await measure(framework, variant, variant === 'kit-otel' ? otelEnv : {});
          rps.get(variant)!.push(result.rps);
          cpu.get(variant)!.push(result.cpu);
        }
      }
      const bareCpu = spread(cpu.get('bare')!).median;
      const bare = spread(rps.get('bare')!).median;
      lines.push(
        `\n### ${framework} on Node ${nodeVersion} (wrk, 32 connections, ${seconds} s × ${rounds} interleaved rounds)\n`,
      );
      lines.push(
        '| variant | requests/s (median, min–max) | × bare | added µs per request (throughput) | app CPU µs per request | added CPU µs |',
      );
      lines.push('| --- | --- | --- | --- | --- | --- |');
      for (const variant of variants) {
        const s = spread(rps.get(variant)!);
        const added = 1e6 / s.median - 1e6 / bare;
        const c = spread(cpu.get(variant)!).median;
        if (variant !== 'bare')
          lines.push(
            resultLine({
              bench: 'overhead',
              node: nodeVersion,
              framework,
              variant,
              addedCpuUs: c - bareCpu,
              bareCpuUs: bareCpu,
              ratio: s.median / bare,
            }),
          );
        lines.push(
          `| ${variant} | ${Math.round(s.median)} (${Math.round(s.min)}–${Math.round(s.max)}) | ${(s.median / bare).toFixed(2)} | ${
            variant === 'bare' ? '–' : added.toFixed(1)
          } | ${c.toFixed(1)} | ${variant === 'bare' ? '–' : (c - bareCpu).toFixed(1)} |`,
        );
      }
      const calibrated = cpu.get('bare-1us');
      if (calibrated !== undefined)
        lines.push(
          `\n1 µs of busy work in the bare handler reads as ${signed(spread(calibrated).median - bareCpu)} µs of app CPU per request here (the noise of this table).\n`,
        );
      lines.push(
        chartLine({
          id: `overhead-${framework}-node${nodeMajor}`,
          title: `Per-request overhead on ${framework}, Node ${nodeVersion} (${rounds} rounds)`,
          unit: 'app CPU µs per request, median with min–max (lower is better)',
          marker: { value: bareCpu, label: 'bare' },
          bars: variants
            .filter((v) => v !== 'bare-1us')
            .map((variant) => {
              const c = spread(cpu.get(variant)!);
              const highlight = variant.startsWith('kit');
              return { label: variant, value: c.median, min: c.min, max: c.max, highlight };
            }),
        }),
      );
      if (framework === 'express' && variants.includes('stack')) {
        const kitOn = spread(rps.get('kit-on')!).median;
        const stack = spread(rps.get('stack')!).median;
        summary.push(
          `express: kit with the request line ${(kitOn / stack).toFixed(2)}× the hand-assembled stack (target ≥ 3×)`,
        );
        lines.push(
          resultLine({
            bench: 'overhead',
            node: nodeVersion,
            framework,
            variant: 'kit-on/stack',
            ratio: kitOn / stack,
          }),
        );
      }
    }
    if (withAutocannon && frameworks.includes('express')) {
      const check: string[] = [];
      for (const variant of ['bare', 'kit-on', 'stack'])
        check.push(`${variant} ${Math.round(await autocannonRps('express', variant))}`);
      summary.push(`autocannon, express, requests/s: ${check.join(', ')}`);
    }
  } finally {
    await sink.close();
  }
  console.log(`\n## Per-request overhead on Node ${nodeVersion}`);
  for (const line of lines) console.log(line);
  console.log('');
  for (const line of summary) console.log(line);
  console.log(
    'targets (Node 24 and 26): added app CPU per request over bare ≤ 1.5 µs with the request line off, ≤ 4 µs on, ≤ 10 µs on + OpenTelemetry; Express with the line ≥ 3× the hand-assembled stack',
  );
}

await main();
