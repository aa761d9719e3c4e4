/**
 * bench/soak: 200,000 requests through each adapter (node, express, fastify, koa) with every feature
 * of the kit on (bench/soak/app.mjs: request lines, a readiness check, a secret read per request,
 * metrics, OpenTelemetry tracing to a local OTLP sink, load shedding). The app runs pinned to CPU 0
 * with --expose-gc, wrk pinned to CPU 1 sends a mix of routes (bench/soak/requests.lua: a new URL
 * per /items request, /readyz, /healthz, trace headers) in chunks until the count is reached, or the
 * time bound is. After a warm-up, the heap is measured after two garbage collections (through the
 * app's /__soak/memory), and the open file descriptors counted in /proc/<pid>/fd; again at the end.
 * Targets: heap growth under 8 MiB, no descriptor growth, no failed request (wrk timeouts, from a
 * stall of the shared machine, tolerated up to 0.1 %). Exits 1 when an adapter misses one.
 *
 *   npm run bench:soak [-- --requests 200000 --frameworks node,express --max-seconds 120]
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { get } from '../../test/support/http.js';
import { argNumber, argString } from '../lib/args.js';
import { chartLine } from '../lib/chart.js';
import { startOtlpSink } from '../lib/otlp-sink.js';
import { ensureWrk, type PinnedApp, startPinned, type WrkResult, wrk } from '../lib/wrk.js';

const target = argNumber('requests', 200_000);
const maxSeconds = argNumber('max-seconds', 120);
const warmupSeconds = argNumber('warmup', 3);
const frameworks = argString('frameworks', 'node,express,fastify,koa').split(',');
const maxHeapGrowthMiB = 8;
const app = new URL('app.mjs', import.meta.url).pathname;
const requestMix = new URL('requests.lua', import.meta.url).pathname;
const MiB = 1024 * 1024;

interface Memory {
  readonly heapUsed: number;
  readonly rss: number;
}

interface Soak {
  readonly framework: string;
  readonly requests: number;
  readonly seconds: number;
  /** Answers other than 2xx/3xx, and connect, read and write errors. */
  readonly failed: number;
  /** Requests wrk gave up on after its 2 s timeout. */
  readonly timeouts: number;
  readonly heapBefore: number;
  readonly heapAfter: number;
  /** The highest heap measured after a chunk, over the heap after warm-up. */
  readonly heapPeakGrowth: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  readonly fdsBefore: number;
  readonly fdsAfter: number;
  /** What the new descriptors are, when there are more at the end. */
  readonly fdGrowth: string;
}

/**
 * The app's memory after garbage collection, asked on a connection of its own that closes after the
 * answer (`agent: false`): a kept-alive one would count as one more descriptor in the app.
 */
async function memory(port: number): Promise<Memory> {
  const res = await get(`http://127.0.0.1:${port}/__soak/memory`, { agent: false, timeoutMs: 10_000 });
  if (res.status !== 200) throw new Error(`/__soak/memory answered ${res.status}`);
  return JSON.parse(res.body) as Memory;
}

/** What each open descriptor of `pid` points to (`socket:[…]`, `pipe:[…]`, a path). */
function openFds(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).map((fd) => {
    try {
      return readlinkSync(`${dir}/${fd}`);
    } catch {
      return 'closed meanwhile';
    }
  });
}

/**
 * The descriptor count once it has held still for 300 ms (the server closes the load's sockets
 * shortly after wrk does), or the lowest seen within 3 s.
 */
async function settledFds(pid: number): Promise<string[]> {
  const deadline = performance.now() + 3_000;
  let last = openFds(pid);
  let lowest = last;
  let stableSince = performance.now();
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = openFds(pid);
    if (now.length < lowest.length) lowest = now;
    if (now.length !== last.length) {
      last = now;
      stableSince = performance.now();
    } else if (performance.now() - stableSince >= 300) {
      return now;
    }
  }
  return lowest;
}

/** The kinds of descriptor (`socket`, `pipe`, `anon_inode:[eventpoll]`, a path) with their counts. */
function fdKinds(fds: readonly string[]): Map<string, number> {
  const kinds = new Map<string, number>();
  for (const fd of fds) {
    const kind = /^(socket|pipe):/.exec(fd)?.[1] ?? fd;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return kinds;
}

/** What grew between `before` and `after`, as `socket +1`; empty when nothing did. */
function fdGrowth(before: readonly string[], after: readonly string[]): string {
  const was = fdKinds(before);
  return [...fdKinds(after)]
    .filter(([kind, n]) => n > (was.get(kind) ?? 0))
    .map(([kind, n]) => `${kind} +${n - (was.get(kind) ?? 0)}`)
    .join(', ');
}

async function soak(framework: string, env: Record<string, string>): Promise<Soak> {
  const started: PinnedApp = await startPinned(
    app,
    { FRAMEWORK: framework, SOAK_API_KEY: 'soak-api-key-value', ...env },
    '/',
    ['--expose-gc'],
  );
  const pid = started.child.pid!;
  const url = `http://127.0.0.1:${started.port}`;
  try {
    const warmup = await wrk(`${url}/`, warmupSeconds, 32, requestMix);
    // Memory first: its flush of the tracer is an export too, and its own connection must have
    // closed before the descriptors are counted, at both ends alike.
    const before = await memory(started.port);
    const fdsBefore = await settledFds(pid);
    let requests = 0;
    let failed = 0;
    let timeouts = 0;
    const count = (result: WrkResult) => {
      const { connect, read, write, timeout } = result.socketErrors;
      failed += result.non2xx + connect + read + write;
      timeouts += timeout;
    };
    count(warmup);
    let peak = before.heapUsed;
    let chunk = 5;
    const soakStarted = performance.now();
    while (requests < target && (performance.now() - soakStarted) / 1000 < maxSeconds) {
      const result = await wrk(`${url}/`, chunk, 32, requestMix);
      requests += result.requests;
      count(result);
      peak = Math.max(peak, (await memory(started.port)).heapUsed);
      // The next chunk: a little less than what is left at the rate just measured, 1 to 10 s.
      chunk = Math.min(10, Math.max(1, Math.floor((target - requests) / Math.max(result.rps, 1))));
    }
    const seconds = (performance.now() - soakStarted) / 1000;
    const after = await memory(started.port);
    const fdsAfter = await settledFds(pid);
    return {
      framework,
      requests,
      seconds,
      failed,
      timeouts,
      heapBefore: before.heapUsed,
      heapAfter: after.heapUsed,
      heapPeakGrowth: Math.max(peak, after.heapUsed) - before.heapUsed,
      rssBefore: before.rss,
      rssAfter: after.rss,
      fdsBefore: fdsBefore.length,
      fdsAfter: fdsAfter.length,
      fdGrowth: fdGrowth(fdsBefore, fdsAfter),
    };
  } finally {
    await started.stop();
  }
}

const mib = (bytes: number) => (bytes / MiB).toFixed(1);
const signedMib = (bytes: number) => {
  const text = mib(bytes);
  return text === '-0.0' ? '0.0' : `${bytes >= 0 ? '+' : ''}${text}`;
};

function verdict(result: Soak): string[] {
  const problems: string[] = [];
  if (result.requests < target) problems.push(`only ${result.requests} requests within ${maxSeconds} s`);
  if (result.heapAfter - result.heapBefore >= maxHeapGrowthMiB * MiB) problems.push('heap grew');
  if (result.fdsAfter > result.fdsBefore) problems.push(`descriptors grew (${result.fdGrowth})`);
  if (result.failed > 0) problems.push(`${result.failed} failed requests`);
  // A few wrk timeouts mean the shared machine stalled; more mean the app slowed down.
  if (result.timeouts > result.requests * 0.001) problems.push(`${result.timeouts} requests timed out`);
  return problems;
}

async function main(): Promise<void> {
  await ensureWrk();
  const sink = await startOtlpSink();
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' };
  const results: Soak[] = [];
  try {
    for (const framework of frameworks) results.push(await soak(framework, env));
  } finally {
    await sink.close();
  }
  if (sink.exports() === 0) throw new Error('no trace export reached the sink: tracing was not on');

  console.log(
    `\n## Soak: ${target.toLocaleString('en-US')} requests per adapter, every feature on (wrk, 32 connections, after a ${warmupSeconds} s warm-up)\n`,
  );
  console.log(
    '| adapter | requests | s | requests/s | failed | wrk timeouts (2 s) | heap after warm-up, MiB | heap at the end, MiB | growth, MiB (peak) | RSS, MiB | open fds (warm-up → end) | within targets |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const failures: string[] = [];
  for (const r of results) {
    const problems = verdict(r);
    if (problems.length > 0) failures.push(`${r.framework}: ${problems.join(', ')}`);
    console.log(
      `| ${r.framework} | ${r.requests.toLocaleString('en-US')} | ${r.seconds.toFixed(0)} | ${Math.round(
        r.requests / r.seconds,
      )} | ${r.failed} | ${r.timeouts} | ${mib(r.heapBefore)} | ${mib(r.heapAfter)} | ${signedMib(r.heapAfter - r.heapBefore)} (${signedMib(
        r.heapPeakGrowth,
      )}) | ${mib(r.rssBefore)} → ${mib(r.rssAfter)} | ${r.fdsBefore} → ${r.fdsAfter} | ${
        problems.length === 0 ? 'yes' : `no: ${problems.join(', ')}`
      } |`,
    );
  }
  console.log(
    chartLine({
      id: 'soak-heap',
      title: `Soak: heap growth over ${target.toLocaleString('en-US')} requests, every feature on`,
      unit: 'MiB of heap after garbage collection, end over after warm-up (lower is better)',
      digits: 2,
      marker: { value: maxHeapGrowthMiB, label: `target < ${maxHeapGrowthMiB} MiB` },
      bars: results.map((r) => ({
        label: r.framework,
        value: (r.heapAfter - r.heapBefore) / MiB,
        highlight: true,
      })),
    }),
  );
  console.log(
    `\ntargets: heap growth under ${maxHeapGrowthMiB} MiB and no file-descriptor growth after warm-up; ${
      failures.length === 0 ? 'met by every adapter' : `missed: ${failures.join('; ')}`
    }.`,
  );
  if (failures.length > 0) process.exitCode = 1;
}

await main();
