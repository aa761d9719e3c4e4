/**
 * bench/run-all: every benchmark in bench/, one after the other, with the reduced rounds and
 * durations below so that the whole run stays near 20 minutes on 2 cores, then BENCHMARKS.md: the
 * machine, the method, each bench's tables (its stdout, each table headed by the command that
 * reproduces it), an SVG chart per table (docs/benchmarks/*.svg, drawn from the `bench-chart:` lines
 * the benches print), and the reliability table (failure mode → test). The per-request benches
 * (overhead, tracing) run once per supported Node.js line (apps on that line, from scripts/node.sh),
 * and their figures are also gathered into one table with the lines side by side. Each bench runs in
 * its own process group with a time bound; one that fails or overruns is reported in BENCHMARKS.md,
 * and the run exits 1.
 *
 *   npm run bench [-- --only shutdown,soak] [-- --lines 24,26]
 *     --only: a subset, written under $TMPDIR/apprunner-kit-bench/; --lines: the Node.js lines of the
 *     per-request benches (default 24,22,26)
 *   npx tsx bench/run-all.ts --reliability-only   (rewrites the Reliability section alone)
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { argString } from './lib/args.js';
import { parseChartLine } from './lib/chart.js';
import { reliabilityMarkdown } from './lib/reliability.js';
import { type BenchResult, parseResultLine } from './lib/result.js';
import { renderBarChart } from './lib/svg.js';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const tsxCli = `${root}/node_modules/tsx/dist/cli.mjs`;
const chartsDir = 'docs/benchmarks';

interface Bench {
  readonly name: string;
  /** What it compares, one line. */
  readonly about: string;
  readonly args: readonly string[];
  /** Bound on its run; it is killed (its whole process group) past it. */
  readonly timeoutS: number;
  /** Runs once per Node.js line (`--node N`), with `firstLineArgs` added on the first line only. */
  readonly perLine?: { readonly firstLineArgs: readonly string[]; readonly otherLineArgs: readonly string[] };
}

/** One run of a bench: on the harness's own Node.js, or with its apps on `line`. */
interface Run {
  readonly bench: Bench;
  readonly line: string | undefined;
  readonly args: readonly string[];
}

// Reduced from each bench's defaults to fit the 20 minutes; run a bench alone with more rounds for
// figures to quote. Estimated durations on the 2-core machine in the comments.
const benches: readonly Bench[] = [
  {
    name: 'shutdown',
    about:
      'SIGTERM under 32 keep-alive connections: the kit against terminus, http-terminator, stoppable, close-with-grace, lightship and `server.close()`',
    args: ['--runs', '3'], // 7 implementations × 3 runs × ~0.5 s ≈ 10 s
    timeoutS: 150,
  },
  {
    name: 'overhead',
    about:
      'per-request cost on each framework: bare, kit (request line off, on, on + OpenTelemetry) and the hand-assembled Express stack (pino-http + aws-xray-sdk-express + terminus)',
    // Per line: 23 variants × 3 × ~3.4 s ≈ 235 s, + the autocannon check on the first line. Not 1 s:
    // a stall of the shared machine then leaves a round with almost no requests.
    args: ['--rounds', '3', '--seconds', '2'],
    timeoutS: 330,
    perLine: { firstLineArgs: [], otherLineArgs: ['--autocannon', 'false'] },
  },
  {
    name: 'logging',
    about: 'the request line against pino-http',
    args: ['--rounds', '3', '--seconds', '2'], // 5 × 3 × ~3.2 s ≈ 50 s
    timeoutS: 150,
  },
  {
    name: 'tracing',
    about:
      'tracing off, `otel` and `xray` against the OpenTelemetry auto-instrumentation and aws-xray-sdk-express; each sampler; a PostgreSQL query span',
    // Per line: 15 variants × 3 × ~3.7 s + a PostgreSQL ≈ 175 s. Not 1 s: the peers'
    // instrumentations warm up slowly, and a round of 1 s completed no request at all.
    args: ['--rounds', '3', '--seconds', '2'],
    timeoutS: 280,
    perLine: { firstLineArgs: [], otherLineArgs: [] },
  },
  {
    name: 'metrics',
    about: 'CloudWatch EMF metrics off and on',
    args: ['--rounds', '2', '--seconds', '2'], // 4 × 2 × ~4 s + the in-process hook ≈ 40 s
    timeoutS: 120,
  },
  {
    name: 'health',
    about: '`/readyz` with a PostgreSQL probe against a query per request',
    args: ['--seconds', '2'], // 4 rows × ~3 s + PostgreSQL ≈ 20 s
    timeoutS: 120,
  },
  {
    name: 'secrets',
    about: 'a cached `get` against `Map#get`; a cold start of 50 references against sequential calls',
    args: [], // ≈ 10 s
    timeoutS: 90,
  },
  {
    name: 'fleet',
    about:
      'a deployment of 25, 100 and 500 instances loading 20 SSM parameters each against a shared 40/s quota, the kit against a naive loader; then a simulated hour of their refreshes through the kit’s cache',
    args: [], // 3 sizes × 2 loaders × 10–30 s, then 2 simulated hours and a model per size ≈ 100 s
    timeoutS: 300,
  },
  {
    name: 'soak',
    about: '200,000 requests per adapter with every feature on: heap and file descriptors',
    args: ['--warmup', '1', '--max-seconds', '80'], // 4 × (15–45 s at 5–14k requests/s) ≈ 140 s
    timeoutS: 420,
  },
];

interface Outcome {
  readonly run: Run;
  readonly stdout: string;
  readonly stderrTail: string;
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly seconds: number;
}

function command(run: Run): string {
  return `npm run bench:${run.bench.name}${run.args.length > 0 ? ` -- ${run.args.join(' ')}` : ''}`;
}

function title(run: Run): string {
  return run.line === undefined ? run.bench.name : `${run.bench.name}, Node ${run.line}`;
}

/** The runs of `selected`: once each, or once per line in `lines` for the per-request benches. */
function plan(selected: readonly Bench[], lines: readonly string[]): Run[] {
  return selected.flatMap((bench): Run[] => {
    if (bench.perLine === undefined) return [{ bench, line: undefined, args: bench.args }];
    return lines.map((line, i) => ({
      bench,
      line,
      args: [
        ...bench.args,
        '--node',
        line,
        ...(i === 0 ? bench.perLine!.firstLineArgs : bench.perLine!.otherLineArgs),
      ],
    }));
  });
}

/** Runs one bench in its own process group; its stdout is kept and echoed, its stderr echoed. */
function runBench(run: Run): Promise<Outcome> {
  const { bench } = run;
  const started = performance.now();
  const child = spawn(process.execPath, [tsxCli, `bench/${bench.name}/run.ts`, ...run.args], {
    cwd: root,
    detached: true, // its own process group: the apps it starts go with it on a timeout
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    process.stdout.write(chunk);
  });
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
    process.stderr.write(chunk);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, bench.timeoutS * 1000);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({
        run,
        stdout,
        stderrTail: stderr.trim().split('\n').slice(-15).join('\n'),
        code,
        timedOut,
        seconds: (performance.now() - started) / 1000,
      });
    });
  });
}

/**
 * A bench's stdout as Markdown for BENCHMARKS.md: headings one level down, the reproducing command
 * before each table, each `bench-chart:` line replaced by its SVG (written) and a link to it.
 */
function section(outcome: Outcome, charts: Set<string>, outRoot: string): string[] {
  const out: string[] = [];
  let previous = '';
  for (const line of outcome.stdout.split('\n')) {
    if (parseResultLine(line) !== undefined) continue;
    const chart = parseChartLine(line);
    if (chart !== undefined) {
      const file = `${chartsDir}/${chart.id}.svg`;
      writeFileSync(`${outRoot}/${file}`, renderBarChart(chart));
      charts.add(`${chart.id}.svg`);
      out.push('', `![${chart.title}](${file})`, '');
    } else if (line.startsWith('#')) {
      out.push(`#${line}`);
    } else {
      if (line.startsWith('|') && !previous.startsWith('|')) {
        if (out.at(-1) !== '') out.push('');
        out.push(`Reproduce: \`${command(outcome.run)}\``, '');
      }
      out.push(line);
    }
    previous = line;
  }
  if (outcome.code !== 0 || outcome.timedOut) {
    out.push(
      '',
      `**This bench ${outcome.timedOut ? `was stopped at its ${outcome.run.bench.timeoutS} s bound` : `exited with code ${outcome.code}`}.** The end of its stderr:`,
      '',
      '```text',
      outcome.stderrTail,
      '```',
    );
  }
  return out;
}

function cpuModel(): string {
  const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return match?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
}

function wrkVersion(): string {
  try {
    return execFileSync('wrk', ['--version'], { encoding: 'utf8' }).split(' Copyright')[0]!.trim();
  } catch (error) {
    // wrk --version exits 1 after printing its version
    const stdout = (error as { stdout?: string }).stdout ?? '';
    return stdout.split(' Copyright')[0]?.trim() || 'not installed';
  }
}

/** Targets of the per-request budget (added app CPU µs per request over bare), on Node 24 and 26. */
const budget: Readonly<Record<string, number>> = { 'kit-off': 1.5, 'kit-on': 4, 'kit-otel': 10 };

/**
 * The per-request figures of every Node.js line side by side, from the `bench-result:` lines of the
 * per-line runs: added app CPU µs per request over the bare framework, and the Express stack ratio.
 */
function byNodeLine(outcomes: readonly Outcome[]): string[] {
  const results: BenchResult[] = outcomes
    .filter((o) => o.run.line !== undefined)
    .flatMap((o) => o.stdout.split('\n').flatMap((line) => parseResultLine(line) ?? []));
  const nodes = [...new Set(results.map((r) => r.node))].sort(
    (a, b) => Number.parseInt(a.slice(1), 10) - Number.parseInt(b.slice(1), 10),
  );
  if (nodes.length === 0) return [];
  const rows = [...new Set(results.map((r) => `${r.bench}\u0000${r.framework}\u0000${r.variant}`))];
  const cell = (row: string, node: string): string => {
    const [bench, framework, variant] = row.split('\u0000');
    const r = results.find(
      (x) => x.bench === bench && x.framework === framework && x.variant === variant && x.node === node,
    );
    if (r === undefined) return '–';
    if (r.addedCpuUs === undefined) return `${r.ratio?.toFixed(2)}×`;
    const target = bench === 'overhead' ? budget[variant!] : undefined;
    const over = target !== undefined && !/^v2[0-3]\./.test(node) && r.addedCpuUs > target;
    return `${r.addedCpuUs.toFixed(1)}${over ? ' ✗' : ''}`;
  };
  const target = (row: string): string => {
    const [bench, , variant] = row.split('\u0000');
    if (bench === 'overhead' && variant === 'kit-on/stack') return '≥ 3×';
    const t = bench === 'overhead' ? budget[variant!] : undefined;
    return t === undefined ? '' : `≤ ${t}`;
  };
  return [
    '## Per-request cost by Node.js line',
    '',
    'App CPU µs added per request over the bare framework (median of the rounds; each line’s own bare',
    'app is its baseline), from the `overhead` and `tracing` runs below, one per line. `kit-on/stack`:',
    'Express with the kit and the request line, in requests/s, as a multiple of the hand-assembled',
    'stack (pino-http + aws-xray-sdk-express + terminus). ✗: over the target (the targets apply to Node',
    '24 and 26). `tracing` rows: kit `otel` and `xray` over kit `off` on a plain listener.',
    '',
    `| bench | framework | variant | target | ${nodes.map((n) => `Node ${n}`).join(' | ')} |`,
    `| --- | --- | --- | --- | ${nodes.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => {
      const [bench, framework, variant] = row.split('\u0000');
      return `| ${bench} | ${framework} | ${variant} | ${target(row)} | ${nodes.map((n) => cell(row, n)).join(' | ')} |`;
    }),
    '',
  ];
}

const loads = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');

/** Rewrites only the Reliability section of BENCHMARKS.md, when test titles changed. */
function rewriteReliability(): void {
  const path = `${root}/BENCHMARKS.md`;
  const text = readFileSync(path, 'utf8');
  const at = text.indexOf('## Reliability');
  if (at === -1) throw new Error('BENCHMARKS.md has no Reliability section: run the whole bench');
  writeFileSync(path, `${text.slice(0, at)}${reliabilityMarkdown(root).join('\n')}\n`);
  process.stderr.write('BENCHMARKS.md: Reliability section rewritten\n');
}

async function main(): Promise<void> {
  if (process.argv.includes('--reliability-only')) return rewriteReliability();
  const only = argString('only')?.split(',');
  const selected = only === undefined ? benches : benches.filter((b) => only.includes(b.name));
  const lines = argString('lines', '24,22,26').split(',');
  const startedAt = new Date();
  const loadBefore = loads();
  const started = performance.now();
  // A subset is a trial: it leaves BENCHMARKS.md and the charts in the checkout alone.
  const outRoot = only === undefined ? root : `${tmpdir()}/apprunner-kit-bench`;
  mkdirSync(`${outRoot}/${chartsDir}`, { recursive: true });

  const outcomes: Outcome[] = [];
  for (const run of plan(selected, lines)) {
    process.stderr.write(`\n=== bench/${title(run)}: ${command(run)}\n`);
    const outcome = await runBench(run);
    process.stderr.write(`=== bench/${title(run)}: ${outcome.seconds.toFixed(0)} s, exit ${outcome.code}\n`);
    outcomes.push(outcome);
  }
  const totalS = (performance.now() - started) / 1000;

  const charts = new Set<string>();
  const results: string[] = [];
  for (const outcome of outcomes) {
    const { bench } = outcome.run;
    results.push(
      `## ${title(outcome.run)}`,
      '',
      `${bench.about[0]!.toUpperCase()}${bench.about.slice(1)}${outcome.run.line === undefined ? '' : `, the apps on Node ${outcome.run.line}`}. bench/${bench.name}/run.ts, ${outcome.seconds.toFixed(0)} s.`,
      ...section(outcome, charts, outRoot),
      '',
    );
  }
  for (const file of readdirSync(`${outRoot}/${chartsDir}`)) {
    if (only === undefined && file.endsWith('.svg') && !charts.has(file))
      rmSync(`${outRoot}/${chartsDir}/${file}`);
  }

  const failed = outcomes.filter((o) => o.code !== 0 || o.timedOut);
  const doc = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` (bench/run-all.ts) in ${Math.round(totalS)} s; regenerate rather than edit.`,
    'Every figure below is a comparison made in the same run, on the same machine: the kit against the bare',
    'framework or against the tool people use for the same job. Absolute numbers depend on the machine;',
    'the ratios and the CPU time per request travel better.',
    '',
    '## Machine',
    '',
    '| | |',
    '| --- | --- |',
    `| CPU | ${cpuModel()}, ${cpus().length} cores |`,
    `| memory | ${(totalmem() / 2 ** 30).toFixed(1)} GiB |`,
    `| kernel | Linux ${release()} |`,
    `| Node.js | ${process.version} (the harness, and the apps of every bench but overhead and tracing, which run on each line named in their heading) |`,
    `| load generator | ${wrkVersion()} |`,
    `| date | ${startedAt.toISOString()} |`,
    `| load average (1, 5, 15 min) | ${loadBefore} at the start, ${loads()} at the end |`,
    '',
    'The machine is shared: other work ran during these measurements (see the load average), which moves',
    'throughput figures by tens of percent from round to round. Prefer the CPU µs per request and the counts',
    '(failed requests, queries, API calls, bytes of heap), which hold much steadier.',
    '',
    '## Method',
    '',
    '- **Load**: `wrk`, one thread, 32 keep-alive connections, pinned to CPU 1 with `taskset`; each app runs',
    '  in its own process pinned to CPU 0, its stdout to /dev/null. A 1 s warm-up precedes each measurement.',
    '  On 2 cores autocannon (Node.js) would take most of a core itself, so it only cross-checks Express.',
    '- **Interleaved rounds**: every variant of a table runs once per round (A B C, A B C, …), so that a',
    '  slow spell of the machine hits all of them; each figure is the **median** of the rounds, with the',
    '  **min–max** beside it, and the SVG charts draw the min–max as whiskers.',
    '- **CPU per request**: the app process’s user + system time from `/proc/<pid>/stat`, over the requests',
    '  wrk completed. It does not count the time the app waited for a core.',
    '- **Baselines in the same run**: "× bare", "added µs" and the peers are measured in the same rounds.',
    '- **Shutdown**: a real SIGTERM to a child process under 32 keep-alive connections of back-to-back',
    '  requests; a request that fails on an already-open connection is a 502 behind a proxy.',
    '- **Soak**: 200,000 requests per adapter in wrk chunks (a mix of routes, a new URL per `/items`',
    '  request, `/readyz`, `/healthz`, trace headers); heap measured after two forced garbage collections',
    '  (`--expose-gc`), after the warm-up and at the end; descriptors counted in `/proc/<pid>/fd`.',
    '- **Node.js lines**: overhead and tracing run once per supported line (`--node 22|24|26`, official',
    '  builds from scripts/node.sh); only the app under test changes line, the harness and wrk stay put.',
    '- Rounds and durations here are reduced to keep `npm run bench` near 20 minutes; the command above',
    '  each table reproduces it, and each bench accepts more (`--rounds`, `--seconds`, `--runs`).',
    '',
    ...(failed.length > 0
      ? [`**Failed in this run:** ${failed.map((o) => `bench/${title(o.run)}`).join(', ')} (see below).`, '']
      : []),
    ...byNodeLine(outcomes),
    ...results,
    ...reliabilityMarkdown(root),
    '',
  ].join('\n');
  const out = `${outRoot}/BENCHMARKS.md`;
  writeFileSync(out, doc.replace(/\n{3,}/g, '\n\n'));
  process.stderr.write(
    `\n${out} written: ${outcomes.length} benches in ${Math.round(totalS)} s, ${charts.size} charts in ${outRoot}/${chartsDir}/${
      failed.length > 0 ? `; failed: ${failed.map((o) => title(o.run)).join(', ')}` : ''
    }\n`,
  );
  if (failed.length > 0) process.exitCode = 1;
}

await main();
