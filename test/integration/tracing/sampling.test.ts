import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, get } from '../../support/http.js';
import { type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { stopRuntimes, type TestRuntime } from '../../support/runtime.js';
import { callerHexRoot, callerParent, callerRoot, startTraced, xrayOf } from './support.js';

let collector: OtlpCollector;
let downstream: Server;
const received: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  collector = await startOtlpCollector({ grpc: false });
  downstream = createServer((req, res) => {
    received.push(req.headers);
    res.end();
  });
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
});

afterEach(async () => {
  await stopRuntimes();
  collector.clear();
  received.length = 0;
});

afterAll(async () => {
  await collector.close();
  await new Promise((resolve) => downstream.close(resolve));
});

/** A traced runtime whose handler calls downstream with fetch. */
function start(env: Record<string, string> = {}): Promise<TestRuntime> {
  return startTraced(
    collector,
    'http/json',
    () => async (_req, res) => {
      await (await fetch(baseUrl(downstream))).text();
      res.end();
    },
    { env },
  );
}

async function call(runtime: TestRuntime['runtime'], header: string) {
  const response = await get(`${baseUrl(runtime.server!)}/`, { headers: { 'x-amzn-trace-id': header } });
  expect(response.status).toBe(200);
  await runtime.tracer.flush();
  return response;
}

describe("the caller's sampling decision", () => {
  it('Sampled=0: nothing exported, the trace id still logged and passed on with Sampled=0', async () => {
    const { runtime, logs } = await start();
    const response = await call(runtime, `Root=${callerRoot};Parent=${callerParent};Sampled=0`);
    await delay(100);
    expect(collector.spans).toEqual([]);
    expect(response.headers['x-amzn-trace-id']).toBeUndefined();
    expect(logs.find('request completed')[0]).toMatchObject({ traceId: callerRoot });
    expect(received[0]!['x-amzn-trace-id']).toMatch(
      new RegExp(`^Root=${callerRoot};Parent=[0-9a-f]{16};Sampled=0$`),
    );
  });

  it('Sampled=1 wins over a sampler that samples nothing new', async () => {
    const { runtime } = await start({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' });
    await call(runtime, `Root=${callerRoot};Sampled=1`);
    const [span] = await collector.waitForSpans(2);
    expect(span!.traceId).toBe(callerHexRoot);
  });

  it('Sampled=?: the kit decides and says so in the response', async () => {
    const { runtime } = await start();
    const response = await call(runtime, `Root=${callerRoot};Parent=${callerParent};Sampled=?`);
    expect(response.headers['x-amzn-trace-id']).toBe(`Root=${callerRoot};Sampled=1`);
    const spans = await collector.waitForSpans(2);
    expect(spans.find((s) => s.kind === 'server')).toMatchObject({
      traceId: callerHexRoot,
      parentSpanId: callerParent,
    });
  });

  it('Sampled=? with a sampler that says no: Sampled=0 in the response, nothing exported', async () => {
    const { runtime } = await start({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' });
    const response = await call(runtime, `Root=${callerRoot};Parent=${callerParent};Sampled=?`);
    expect(response.headers['x-amzn-trace-id']).toBe(`Root=${callerRoot};Sampled=0`);
    await delay(100);
    expect(collector.spans).toEqual([]);
  });

  it('Root= only: the trace id is kept, the span is the root of its segment', async () => {
    const { runtime, logs } = await start();
    await call(runtime, `Root=${callerRoot}`);
    const spans = await collector.waitForSpans(2);
    const server = spans.find((s) => s.kind === 'server')!;
    expect(server).toMatchObject({ traceId: callerHexRoot, parentSpanId: undefined });
    expect(logs.find('request completed')[0]).toMatchObject({ traceId: callerRoot });
  });

  it('Lineage= is forwarded downstream', async () => {
    const { runtime } = await start();
    await call(runtime, `Root=${callerRoot};Parent=${callerParent};Sampled=1;Lineage=a87bd80c:1`);
    expect(received[0]!['x-amzn-trace-id']).toMatch(/;Sampled=1;Lineage=a87bd80c:1$/);
  });

  it('always_off: nothing exported, trace ids still in the logs and headers', async () => {
    const { runtime, logs } = await start({ OTEL_TRACES_SAMPLER: 'always_off' });
    await call(runtime, 'garbage');
    await delay(100);
    expect(collector.spans).toEqual([]);
    const traceId = logs.find('request completed')[0]!.traceId as string;
    expect(traceId).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(received[0]!['x-amzn-trace-id']).toMatch(
      new RegExp(`^Root=${traceId};Parent=[0-9a-f]{16};Sampled=0$`),
    );
  });

  it('traceidratio with 0.5 samples about half of new traces', async () => {
    const { runtime } = await start({
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.5',
    });
    for (let i = 0; i < 60; i++) await get(`${baseUrl(runtime.server!)}/`);
    await runtime.tracer.flush();
    await delay(100);
    const traces = new Set(collector.spans.filter((s) => s.kind === 'server').map((s) => s.traceId)).size;
    expect(traces).toBeGreaterThan(10);
    expect(traces).toBeLessThan(50);
  });
});

describe('malformed headers', () => {
  const malformed = [
    'Root=1-zzzzzzzz-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    'Root=1-5759e988-bd862e3fe1be46a99427279;Parent=53995c3f42cd8ad8;Sampled=1',
    `Root=${callerRoot}extra;Parent=${callerParent};Sampled=1`,
    `Parent=${callerParent};Sampled=1`,
    `Root=${callerRoot};Parent=${callerParent};Sampled=1;${'x'.repeat(1100)}`,
    'Root=1-5759e988 -bd862e3fe1be46a994272793;Sampled=1',
    'Root=1-5759e988-bd862e3fe1be46a994272793;Root=x'.replace('Root=1', 'Root=2'),
    ';;;=;=',
  ];

  it.each(malformed)(
    '%j starts a well-formed new trace, and nothing malformed is passed on',
    async (header) => {
      const { runtime, logs } = await start();
      await call(runtime, header);
      const spans = await collector.waitForSpans(2);
      const server = spans.find((s) => s.kind === 'server')!;
      expect(server.traceId).not.toBe(callerHexRoot);
      expect(server.parentSpanId).toBeUndefined();
      expect(logs.find('request completed')[0]).toMatchObject({ traceId: xrayOf(server.traceId) });
      expect(received[0]!['x-amzn-trace-id']).toMatch(
        /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$/,
      );
      expect(received[0]!['x-amzn-trace-id']).toContain(xrayOf(server.traceId));
    },
  );

  it('a malformed Parent keeps the trace but not the parent', async () => {
    const { runtime } = await start();
    await call(runtime, `Root=${callerRoot};Parent=not-a-span;Sampled=1`);
    const server = (await collector.waitForSpans(2)).find((s) => s.kind === 'server')!;
    expect(server).toMatchObject({ traceId: callerHexRoot, parentSpanId: undefined });
    expect(received[0]!['x-amzn-trace-id']).not.toContain('not-a-span');
  });
});
