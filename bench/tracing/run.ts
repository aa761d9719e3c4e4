/**
 * bench/tracing: what tracing costs per request. The same handler as plain Node.js, under the
 * OpenTelemetry auto-instrumentation (NodeSDK + HTTP instrumentation, X-Ray ids and propagator,
 * loaded with `--require`), and under apprunner-kit with tracing off and with `otel` — both tracers
 * exporting every span over OTLP/HTTP protobuf to the same local sink (this process, which drains
 * and acknowledges). wrk in interleaved rounds, app pinned to CPU 0, wrk and this process to CPU 1. Reports
 * requests/s (median, min–max) and the app's CPU time per request (from /proc: on 2 shared cores
 * throughput swings with whatever else runs, CPU per request much less), the CPU each tracer adds
 * per request over its own untraced baseline, and the kit's as a ratio of the auto-instrumentation's.
 * The X-Ray SDK variants send every segment over UDP to a sink in this process (the daemon's
 * place): kit `xray` over kit `off`, and on an Express app, kit `xray` over kit `off` against
 * aws-xray-sdk-express over plain Express. `--node 22` runs the apps on another Node.js line
 * (scripts/node.sh); the harness and its sinks stay where they are.
 *
 * The samplers: kit `otel` recording nothing new (`parentbased_always_off`), with X-Ray's default rule
 * (the default on App Runner, ECS and EKS), and with `OTEL_TRACES_SAMPLER=xray` reading that rule
 * from the sink (the X-Ray daemon's place). And one PostgreSQL query per request (a PostgreSQL the
 * bench starts, as the tests do): kit `off`, kit `otel` (the request's span), kit `otel` with
 * `--import apprunner-kit/register` (the query's span too).
 *
 *   npm run bench:tracing [-- --rounds 3 --seconds 5 --node 26]
 */
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startPostgres } from '../../test/support/services/index.js';
import { argNumber } from '../lib/args.js';
import { printChart } from '../lib/chart.js';
import { appNodeLine } from '../lib/node-line.js';
import { resultLine } from '../lib/result.js';
import { cpuMicros, ensureWrk, pinHarness, spread, startPinned, wrk } from '../lib/wrk.js';

const rounds = argNumber('rounds', 3);
const seconds = argNumber('seconds', 5);
const apps = new URL('apps/', import.meta.url).pathname;

/**
 * An OTLP/HTTP sink: reads each export, answers an empty ExportTraceServiceResponse; and a UDP
 * socket standing where the X-Ray daemon would (`daemon`), counting the segments' bytes.
 */
interface Sink {
  readonly url: string;
  readonly daemon: string;
  bytes: number;
  close(): Promise<void>;
}

/** X-Ray's default rule, as GetSamplingRules returns it. */
const samplingRules = JSON.stringify({
  SamplingRuleRecords: [
    {
      SamplingRule: {
        RuleName: 'Default',
        RuleARN: 'arn:aws:xray:eu-west-1:123456789012:sampling-rule/Default',
        Priority: 10_000,
        FixedRate: 0.05,
        ReservoirSize: 1,
        ServiceName: '*',
        ServiceType: '*',
        Host: '*',
        HTTPMethod: '*',
        URLPath: '*',
        ResourceARN: '*',
        Version: 1,
        Attributes: {},
      },
    },
  ],
});

async function startSink(): Promise<Sink> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/GetSamplingRules' || req.url === '/SamplingTargets') {
      req.resume();
      res.setHeader('content-type', 'application/json');
      res.end(req.url === '/GetSamplingRules' ? samplingRules : '{"SamplingTargetDocuments":[]}');
      return;
    }
    req.on('data', (chunk: Buffer) => {
      sink.bytes += chunk.length;
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const udp = createSocket('udp4');
  udp.on('message', (message) => {
    sink.bytes += message.length;
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const sink: Sink = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    daemon: `127.0.0.1:${udp.address().port}`,
    bytes: 0,
    close: () =>
      new Promise((resolve) => {
        udp.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return sink;
}

interface Variant {
  readonly name: string;
  readonly script: string;
  readonly env: (sink: Sink, databaseUrl: string) => Record<string, string>;
  readonly exports: boolean;
}

const otelEnv = (sink: Sink) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
});

const variants: readonly Variant[] = [
  { name: 'plain node', script: 'bare.cjs', env: () => ({}), exports: false },
  {
    name: 'plain node + OTel auto-instrumentation',
    script: 'bare.cjs',
    env: (sink) => ({ NODE_OPTIONS: `--require ${apps}otel-sdk.cjs`, SINK_URL: `${sink.url}/v1/traces` }),
    exports: true,
  },
  { name: 'kit, tracing off', script: 'kit.mjs', env: () => ({}), exports: false },
  {
    name: 'kit, tracing otel',
    script: 'kit.mjs',
    env: otelEnv,
    exports: true,
  },
  {
    name: 'kit, tracing xray',
    script: 'kit-xray.mjs',
    env: (sink) => ({ AWS_XRAY_DAEMON_ADDRESS: sink.daemon }),
    exports: true,
  },
  { name: 'express', script: 'express.cjs', env: () => ({}), exports: false },
  {
    name: 'express + aws-xray-sdk-express',
    script: 'express.cjs',
    env: (sink) => ({ XRAY_SDK_EXPRESS: '1', AWS_XRAY_DAEMON_ADDRESS: sink.daemon }),
    exports: true,
  },
  { name: 'kit + express, tracing off', script: 'kit-express.mjs', env: () => ({}), exports: false },
  {
    name: 'kit + express, tracing xray',
    script: 'kit-express.mjs',
    env: (sink) => ({ AWS_XRAY_DAEMON_ADDRESS: sink.daemon }),
    exports: true,
  },
  {
    name: 'kit, otel, parentbased_always_off',
    script: 'kit.mjs',
    env: (sink) => ({ ...otelEnv(sink), OTEL_TRACES_SAMPLER: 'parentbased_always_off' }),
    exports: false,
  },
  {
    name: "kit, otel, X-Ray's default rule",
    script: 'kit.mjs',
    env: (sink) => ({ ...otelEnv(sink), OTEL_RESOURCE_ATTRIBUTES: 'cloud.platform=aws_app_runner' }),
    exports: true,
  },
  {
    name: 'kit, otel, OTEL_TRACES_SAMPLER=xray',
    script: 'kit.mjs',
    env: (sink) => ({
      ...otelEnv(sink),
      OTEL_TRACES_SAMPLER: 'xray',
      OTEL_TRACES_SAMPLER_ARG: `endpoint=${sink.url}`,
    }),
    exports: true,
  },
  {
    name: 'kit + pg query, tracing off',
    script: 'kit-pg.mjs',
    env: (_, db) => ({ DATABASE_URL: db }),
    exports: false,
  },
  {
    name: 'kit + pg query, otel',
    script: 'kit-pg.mjs',
    env: (sink, db) => ({ ...otelEnv(sink), DATABASE_URL: db }),
    exports: true,
  },
  {
    name: 'kit + pg query, otel + register',
    script: 'kit-pg.mjs',
    env: (sink, db) => ({
      ...otelEnv(sink),
      DATABASE_URL: db,
      NODE_OPTIONS: '--import apprunner-kit/register',
    }),
    exports: true,
  },
];

async function main(): Promise<void> {
  await ensureWrk();
  const database = await startPostgres();
  pinHarness(); // the sinks run here, with wrk on CPU 1, off the app's CPU
  const sink = await startSink();
  const rps = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const exported = new Map<string, number>(variants.map((v) => [v.name, 0]));
  const errors = new Map<string, number>(variants.map((v) => [v.name, 0]));
  const cpu = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const variant of variants) {
        const app = await startPinned(`${apps}${variant.script}`, variant.env(sink, database.url));
        try {
          await wrk(`http://127.0.0.1:${app.port}/`, 1); // warm-up
          const before = sink.bytes;
          const cpuBefore = cpuMicros(app.child.pid!);
          const result = await wrk(`http://127.0.0.1:${app.port}/`, seconds);
          const cpuUsed = cpuMicros(app.child.pid!) - cpuBefore;
          await new Promise((resolve) => setTimeout(resolve, 200));
          // A few wrk timeouts happen when the machine stalls (2 shared cores); many mean a broken app.
          if (result.errors > result.rps * seconds * 0.001) {
            throw new Error(`${variant.name}: ${result.errors} errors`);
          }
          errors.set(variant.name, errors.get(variant.name)! + result.errors);
          rps.get(variant.name)!.push(result.rps);
          cpu.get(variant.name)!.push(cpuUsed / (result.rps * seconds));
          exported.set(variant.name, exported.get(variant.name)! + sink.bytes - before);
        } finally {
          await app.stop();
        }
      }
    }
  } finally {
    await sink.close();
    await database.stop();
  }
  for (const variant of variants) {
    if (variant.exports && exported.get(variant.name) === 0)
      throw new Error(`${variant.name} exported nothing`);
  }

  const median = (name: string) => spread(rps.get(name)!).median;
  const plain = median('plain node');
  const { version: nodeVersion, major: nodeMajor } = appNodeLine();
  console.log(
    `\n## Tracing cost on Node ${nodeVersion} (wrk, 32 connections, ${seconds} s × ${rounds} interleaved rounds; every request traced and exported, but where a sampler is named)\n`,
  );
  console.log(
    '| variant | requests/s (median, min–max) | × plain node | app CPU µs per request (median, min–max) | bytes exported per request | wrk errors |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const { name } of variants) {
    const s = spread(rps.get(name)!);
    const c = spread(cpu.get(name)!);
    const requests = rps.get(name)!.reduce((sum, r) => sum + r * seconds, 0);
    console.log(
      `| ${name} | ${Math.round(s.median)} (${Math.round(s.min)}–${Math.round(s.max)}) | ${(s.median / plain).toFixed(2)} | ` +
        `${c.median.toFixed(1)} (${c.min.toFixed(1)}–${c.max.toFixed(1)}) | ${(exported.get(name)! / requests).toFixed(0)} | ${errors.get(name)} |`,
    );
  }
  printChart({
    id: `tracing-node${nodeMajor}`,
    title: `Tracing: app CPU per request, every request traced and exported, Node ${nodeVersion} (${rounds} rounds)`,
    unit: 'app CPU µs per request, median with min–max (lower is better)',
    bars: variants.map(({ name }) => {
      const c = spread(cpu.get(name)!);
      return { label: name, value: c.median, min: c.min, max: c.max, highlight: name.startsWith('kit') };
    }),
  });
  const cpuOf = (name: string) => spread(cpu.get(name)!).median;
  const wallOf = (name: string) => 1e6 / median(name);
  const autoName = 'plain node + OTel auto-instrumentation';
  const kitCpu = cpuOf('kit, tracing otel') - cpuOf('kit, tracing off');
  const autoCpu = cpuOf(autoName) - cpuOf('plain node');
  const kitWall = wallOf('kit, tracing otel') - wallOf('kit, tracing off');
  const autoWall = wallOf(autoName) - wallOf('plain node');
  console.log(
    `\nadded CPU per request: kit \`otel\` over kit \`off\` ${kitCpu.toFixed(1)} µs; OTel auto-instrumentation over plain node ` +
      `${autoCpu.toFixed(1)} µs; ratio ${(kitCpu / autoCpu).toFixed(2)} (target: below 1).`,
  );
  console.log(
    `added time per request from the median throughputs: kit ${kitWall.toFixed(1)} µs (${(
      (1 - median('kit, tracing otel') / median('kit, tracing off')) * 100
    ).toFixed(0)} % of throughput), auto-instrumentation ${autoWall.toFixed(1)} µs (${(
      (1 - median(autoName) / plain) * 100
    ).toFixed(0)} %); ratio ${(kitWall / autoWall).toFixed(2)}.`,
  );
  const added = (traced: string, base: string) => ({
    cpu: cpuOf(traced) - cpuOf(base),
    wall: wallOf(traced) - wallOf(base),
    lost: (1 - median(traced) / median(base)) * 100,
  });
  const xray = added('kit, tracing xray', 'kit, tracing off');
  const kitExpress = added('kit + express, tracing xray', 'kit + express, tracing off');
  const sdkExpress = added('express + aws-xray-sdk-express', 'express');
  const line = (what: string, a: ReturnType<typeof added>) =>
    `${what}: ${a.cpu.toFixed(1)} µs CPU, ${a.wall.toFixed(1)} µs time (${a.lost.toFixed(0)} % of throughput)`;
  console.log(`\nX-Ray SDK, added per request:\n- ${line('kit `xray` over kit `off`', xray)}`);
  console.log(`- ${line('on Express: kit `xray` over kit `off`', kitExpress)}`);
  console.log(`- ${line('aws-xray-sdk-express over plain Express', sdkExpress)}`);
  console.log(
    `- ratio kit / aws-xray-sdk-express on Express: ${(kitExpress.cpu / sdkExpress.cpu).toFixed(2)} in CPU, ` +
      `${(kitExpress.wall / sdkExpress.wall).toFixed(2)} in time (target: below 1).`,
  );
  const result = (variant: string, addedCpuUs: number, ratio: number) =>
    console.log(
      resultLine({ bench: 'tracing', node: nodeVersion, framework: 'node', variant, addedCpuUs, ratio }),
    );
  const samplers = [
    'kit, tracing otel',
    'kit, otel, parentbased_always_off',
    "kit, otel, X-Ray's default rule",
    'kit, otel, OTEL_TRACES_SAMPLER=xray',
  ];
  console.log('\nThe samplers, added per request over kit `off`:');
  for (const name of samplers) console.log(`- ${line(name, added(name, 'kit, tracing off'))}`);
  const query = added('kit + pg query, otel + register', 'kit + pg query, tracing off');
  const querySpan = added('kit + pg query, otel + register', 'kit + pg query, otel');
  console.log('\nOne PostgreSQL query per request (`SELECT 1`), every request sampled:');
  console.log(`- ${line('request span and query span, over kit `off`', query)}`);
  console.log(`- ${line('the query span alone (with the preload, over without)', querySpan)}`);
  result('otel over off', kitCpu, kitCpu / autoCpu);
  result('xray over off', xray.cpu, xray.cpu / sdkExpress.cpu);
  result('express: xray over off', kitExpress.cpu, kitExpress.cpu / sdkExpress.cpu);
}

await main();
