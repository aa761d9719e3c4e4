import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { baseUrl, get } from '../../support/http.js';
import { absentCollectorUrl, type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { stopRuntimes } from '../../support/runtime.js';
import { startTraced } from './support.js';

let collector: OtlpCollector;

beforeAll(async () => {
  collector = await startOtlpCollector();
});

afterEach(async () => {
  await stopRuntimes();
  collector.clear();
});

afterAll(async () => {
  await collector.close();
});

const failedExport = /^trace export to .* failed: spans are dropped until the collector answers/;
const exportTimeout = { OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '300' };

describe.each(['http/protobuf', 'grpc'] as const)('a collector that is not there (%s)', (protocol) => {
  it('leaves requests unaffected and is logged once, not per batch', async () => {
    const absent = await absentCollectorUrl();
    const { runtime, logs } = await startTraced(collector, protocol, () => (_req, res) => res.end('ok'), {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: absent, ...exportTimeout },
    });
    for (let batch = 0; batch < 4; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => get(`${baseUrl(runtime.server!)}/`)),
      );
      expect(answers.map((a) => `${a.status} ${a.body}`)).toEqual(Array(10).fill('200 ok'));
      await runtime.tracer.flush();
    }
    const warnings = logs.lines.filter((l) => typeof l.msg === 'string' && failedExport.test(l.msg));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', tracing: { protocol } });
    expect(logs.find('request completed')).toHaveLength(40);
  });
});

describe('a collector that fails, then recovers', () => {
  it('is logged once when it fails and once when it is back, with what was dropped', async () => {
    const { runtime, logs } = await startTraced(collector, 'http/json', () => (_req, res) => res.end(), {
      env: exportTimeout,
    });
    collector.inject({ kind: 'error', httpStatus: 500, times: 3 });
    for (let i = 0; i < 3; i++) {
      await get(`${baseUrl(runtime.server!)}/`);
      await runtime.tracer.flush();
    }
    await get(`${baseUrl(runtime.server!)}/after`);
    await runtime.tracer.flush();

    const [span] = await collector.waitForSpans(1);
    expect(span!.attributes['url.path']).toBe('/after');
    expect(logs.lines.filter((l) => typeof l.msg === 'string' && failedExport.test(l.msg))).toHaveLength(1);
    expect(logs.find('trace export recovered')).toEqual([
      expect.objectContaining({ level: 'info', failedBatches: 3, droppedSpans: 3 }),
    ]);
  });

  it.each(['http/protobuf', 'http/json', 'grpc'] as const)(
    'recovers on a partial success that rejects nothing (a warning, %s), logged once at info',
    async (protocol) => {
      const { runtime, logs } = await startTraced(collector, protocol, () => (_req, res) => res.end(), {
        env: exportTimeout,
      });
      collector.inject({ kind: 'error', httpStatus: 500, grpcCode: 13, times: 2 });
      for (let i = 0; i < 2; i++) {
        await get(`${baseUrl(runtime.server!)}/`);
        await runtime.tracer.flush();
      }
      // A collector that attaches its warning to every answer.
      collector.inject({ kind: 'partial', rejectedSpans: 0, errorMessage: 'field deprecated', times: 3 });
      for (let i = 0; i < 3; i++) {
        await get(`${baseUrl(runtime.server!)}/after`);
        await runtime.tracer.flush();
      }

      expect(logs.lines.filter((l) => String(l.msg).startsWith('the collector at '))).toEqual([
        expect.objectContaining({
          level: 'info',
          msg: expect.stringContaining('took every span, with a warning: field deprecated'),
          errorMessage: 'field deprecated',
        }),
      ]);
      expect(logs.find('trace export recovered')).toEqual([
        expect.objectContaining({ level: 'info', failedBatches: 2, droppedSpans: 2 }),
      ]);
      expect(logs.find('trace export recovered')[0]).not.toHaveProperty('rejectedSpans');
    },
  );

  it('a collector that hangs: requests are answered meanwhile, and the shutdown stays bounded', async () => {
    collector.inject({ kind: 'hang', times: 100 });
    const { runtime, logs } = await startTraced(
      collector,
      'http/protobuf',
      () => (_req, res) => res.end('ok'),
      {
        shutdown: { hookTimeoutMs: 300 },
      },
    );
    await get(`${baseUrl(runtime.server!)}/`);
    void runtime.tracer.flush(); // an export now hangs in the background
    const answers = await Promise.all(Array.from({ length: 20 }, () => get(`${baseUrl(runtime.server!)}/`)));
    expect(answers.every((a) => a.status === 200)).toBe(true);

    const result = await runtime.shutdown('test');
    expect(result.durationMs).toBeLessThan(5_000);
    expect(logs.lines.some((l) => l.msg === 'final step "tracer flush" timed out after 300 ms')).toBe(true);
    expect(logs.lines.at(-1)).toMatchObject({ msg: 'shutdown complete' });
  });

  it('a collector that hangs through the last of the deadline: the metrics and logger flush still run, and the exit is clean', async () => {
    collector.inject({ kind: 'hang', times: 100 });
    const { runtime, logs } = await startTraced(
      collector,
      'http/protobuf',
      () => (_req, res) => res.end('ok'),
      // The flush's own bound is past the deadline: only the deadline ends it.
      { shutdown: { timeoutMs: 1_500, hookTimeoutMs: 5_000 }, metrics: {} },
    );
    await get(`${baseUrl(runtime.server!)}/`);

    const result = await runtime.shutdown('test');
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(
      logs.lines.some((l) => /^final step "tracer flush" timed out after \d+ ms$/.test(String(l.msg))),
    ).toBe(true);
    expect(logs.lines.filter((l) => String(l.msg).includes('not run'))).toEqual([]);
    expect(logs.lines.at(-1)).toMatchObject({ msg: 'shutdown complete', exitCode: 0 });
  });
});

describe('spans the collector never gets', () => {
  const queueFull = /^trace export queue full \(4 spans\): new spans are dropped until exports catch up/;

  it('dropped on a full queue during an outage are counted on its lines', async () => {
    // One export hangs until its timeout; meanwhile 4 spans fill the queue and 4 more are dropped.
    collector.inject({ kind: 'hang', times: 1 });
    const { runtime, logs } = await startTraced(collector, 'http/json', () => (_req, res) => res.end(), {
      env: {
        OTEL_BSP_MAX_QUEUE_SIZE: '4',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '4',
        OTEL_BSP_SCHEDULE_DELAY: '60000',
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '1500',
      },
    });
    for (let i = 0; i < 12; i++) await get(`${baseUrl(runtime.server!)}/`);

    await vi.waitFor(() => expect(logs.find('trace export recovered')).toHaveLength(1), { timeout: 5_000 });
    const warnings = logs.lines.filter((l) => queueFull.test(String(l.msg)));
    expect(warnings).toEqual([expect.objectContaining({ level: 'warn', maxQueueSize: 4 })]);
    // Logged as a request's span ended: none of that request's fields.
    for (const key of ['requestId', 'traceId', 'spanId', 'method', 'path'])
      expect(warnings[0]).not.toHaveProperty(key);
    expect(logs.lines.filter((l) => failedExport.test(String(l.msg)))).toHaveLength(1);
    expect(logs.find('trace export recovered')[0]).toMatchObject({
      failedBatches: 1,
      droppedSpans: 8,
      queueFullSpans: 4,
    });
    expect(collector.spans).toHaveLength(4);
  });

  it('in an export the batch timer started: tracer.flush() returns once it has ended, not while it is under way', async () => {
    collector.inject({ kind: 'hang', times: 1 });
    const { runtime, logs } = await startTraced(collector, 'http/json', () => (_req, res) => res.end(), {
      env: { OTEL_BSP_SCHEDULE_DELAY: '20', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '600' },
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await vi.waitFor(() => expect(collector.requests).toHaveLength(1)); // the timer's export, hung

    await runtime.tracer.flush();
    // Its outcome is known when flush() returns: a script that exits then loses nothing unsaid.
    expect(logs.lines.filter((l) => failedExport.test(String(l.msg)))).toHaveLength(1);
  });

  it.each(['http/protobuf', 'http/json', 'grpc'] as const)(
    'rejected by the collector (a partial success, %s) are logged once, with its reason',
    async (protocol) => {
      const { runtime, logs } = await startTraced(collector, protocol, () => (_req, res) => res.end());
      collector.inject({ kind: 'partial', rejectedSpans: 1, errorMessage: 'span too old', times: 3 });
      for (let i = 0; i < 3; i++) {
        await get(`${baseUrl(runtime.server!)}/`);
        await runtime.tracer.flush();
      }
      await get(`${baseUrl(runtime.server!)}/after`);
      await runtime.tracer.flush();
      // Another one later: within the minute, its warning is held back and it is counted on.
      collector.inject({ kind: 'partial', rejectedSpans: 2, errorMessage: 'span too old', times: 1 });
      for (const path of ['/again', '/clean']) {
        await get(`${baseUrl(runtime.server!)}${path}`);
        await runtime.tracer.flush();
      }

      const rejected = logs.lines.filter((l) => String(l.msg).startsWith('the collector at '));
      expect(rejected).toEqual([
        expect.objectContaining({
          level: 'warn',
          msg: expect.stringContaining('rejected 1 of 1 spans: span too old (logged once per outage)'),
          rejectedSpans: 1,
          errorMessage: 'span too old',
        }),
      ]);
      expect(logs.find('trace export recovered')).toEqual([
        expect.objectContaining({ level: 'info', failedBatches: 0, droppedSpans: 0, rejectedSpans: 3 }),
      ]);
    },
  );
});
