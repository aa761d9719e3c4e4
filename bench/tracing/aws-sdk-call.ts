/**
 * bench/tracing/aws-sdk-call: what `instrumentAwsClient` adds to one AWS SDK call, the network left
 * out. An S3 client whose request handler answers in memory sends `PutObject` in a loop inside
 * `runtime.tracer.span()` (calls outside any request or span are not traced), one after the other: plain, and
 * instrumented under kit `otel` (spans to a local OTLP sink) and `xray` (segments to a local UDP
 * sink). Interleaved rounds; reports the process's CPU time per call in µs (median of the rounds,
 * min–max: on 2 shared cores wall time swings with whatever else runs, CPU time much less) and what
 * the instrumentation adds over the plain client. `--kit` points at another build of the kit (a `dist/`
 * of an earlier commit) to compare.
 *
 *   npx tsx bench/tracing/aws-sdk-call.ts [-- --rounds 5 --calls 20000 --kit /path/to/dist/index.js]
 */
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { argNumber, argString } from '../lib/args.js';
import { startOtlpSink } from '../lib/otlp-sink.js';
import { spread } from '../lib/stats.js';

const rounds = argNumber('rounds', 5);
const calls = argNumber('calls', 20_000);
const kitPath = argString('kit', new URL('../../dist/index.js', import.meta.url).pathname);
const kit = (await import(kitPath)) as typeof import('../../src/index.js');

Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
});

/** An S3 client that never leaves the process: every attempt is answered 200 in memory. */
function memoryClient(): S3Client {
  return new S3Client({
    endpoint: 'http://127.0.0.1:9',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test', sessionToken: 'token' },
    requestHandler: {
      handle: async () => ({
        response: {
          statusCode: 200,
          headers: { 'x-amz-request-id': 'R1', 'x-amz-id-2': 'X1', etag: '"e"', 'content-length': '0' },
          body: new Uint8Array(),
        },
      }),
    },
  });
}

const otlp = await startOtlpSink();
const udp = createSocket('udp4');
await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
udp.on('message', () => {});
const daemon = `127.0.0.1:${(udp.address() as AddressInfo).port}`;

async function runtimeFor(mode: 'otel' | 'xray') {
  return kit.bootstrapAppRunner({
    port: 0,
    app: (_req, res) => res.end(),
    logging: { level: 'warn' },
    shutdown: { signals: [], exit: false, handleProcessErrors: false },
    tracing:
      mode === 'xray'
        ? {
            mode,
            xray: { sampling: 'local', samplingRules: { version: 2, default: { fixed_target: 0, rate: 1 } } },
          }
        : { mode },
    env:
      mode === 'xray'
        ? { AWS_XRAY_DAEMON_ADDRESS: daemon }
        : { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' },
  });
}

const command = new PutObjectCommand({ Bucket: 'notes', Key: 'n1', Body: 'body' });
const variants: { name: string; run: () => Promise<number> }[] = [];
/** CPU µs per call of `calls` calls made one after the other, each batch of 100 inside `around`. */
async function timed(client: S3Client, around: (batch: () => Promise<void>) => Promise<void>) {
  const batch = async () => {
    for (let i = 0; i < 100; i++) await client.send(command);
  };
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i += 100) await around(batch);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / calls;
}
const plain = memoryClient();
variants.push({ name: 'plain client', run: () => timed(plain, (batch) => batch()) });
for (const mode of ['otel', 'xray'] as const) {
  const runtime = await runtimeFor(mode);
  const client = runtime.tracer.instrumentAwsClient(memoryClient());
  variants.push({
    name: `instrumented, ${mode}`,
    // Each batch in a span of its own: an X-Ray segment of 100 subsegments, as a busy request has.
    run: async () => {
      const perCall = await timed(client, (batch) => runtime.tracer.span('batch', batch));
      await runtime.tracer.flush();
      return perCall;
    },
  });
}

/**
 * The kit's middlewares alone, taken from the stack `instrumentAwsClient` adds them to and chained
 * as the SDK chains them (build, then — when the kit has one — the header middleware after the
 * signer), over a transport that answers at once: the kit's own cost per call, which the SDK's
 * (endpoint rules, checksum, signing) buries in a whole `send()`.
 */
function middlewaresOf(runtime: Awaited<ReturnType<typeof runtimeFor>>) {
  const added: { middleware: Middleware; step: string }[] = [];
  runtime.tracer.instrumentAwsClient({
    middlewareStack: {
      add: (middleware: Middleware, options: { step: string }) => {
        added.push({ middleware, step: options.step });
      },
    },
    config: { region: 'us-east-1' },
  } as unknown as S3Client);
  const output = {
    $metadata: { httpStatusCode: 200, requestId: 'R1', extendedRequestId: 'X1', attempts: 1 },
  };
  const response = { statusCode: 200, headers: { 'content-length': '0' } };
  const transport: Handler = async () => ({ output, response });
  return async () => {
    const context = { clientName: 'S3Client', commandName: 'PutObjectCommand' };
    let handler = transport;
    for (const { middleware } of [...added].reverse()) handler = middleware(handler, context);
    await handler({ input: { Bucket: 'notes', Key: 'n1' }, request: { headers: {} } });
  };
}
type Handler = (args: { input: object; request: unknown }) => Promise<{ output: unknown; response: unknown }>;
type Middleware = (next: Handler, context: object) => Handler;

for (const mode of ['otel', 'xray'] as const) {
  const runtime = await runtimeFor(mode);
  const call = middlewaresOf(runtime);
  variants.push({
    name: `kit middlewares alone, ${mode}`,
    run: async () => {
      const start = process.cpuUsage();
      for (let i = 0; i < calls * 10; i += 100) {
        await runtime.tracer.span('batch', async () => {
          for (let j = 0; j < 100; j++) await call();
        });
      }
      const used = process.cpuUsage(start);
      await runtime.tracer.flush();
      return (used.user + used.system) / (calls * 10);
    },
  });
}

for (const variant of variants) await variant.run(); // warm-up
const results = new Map<string, number[]>(variants.map((v) => [v.name, []]));
for (let round = 0; round < rounds; round++) {
  for (const variant of variants) results.get(variant.name)!.push(await variant.run());
}
const base = spread(results.get('plain client')!).median;
console.log(`kit: ${kitPath}; ${calls} calls per round, ${rounds} rounds, Node.js ${process.version}`);
for (const [name, values] of results) {
  const { median, min, max } = spread(values);
  const added = name.startsWith('instrumented') ? `, +${(median - base).toFixed(1)} µs over plain` : '';
  console.log(`${name}: ${median.toFixed(2)} µs/call (${min.toFixed(2)}–${max.toFixed(2)})${added}`);
}
udp.close();
await otlp.close();
process.exit(0);
