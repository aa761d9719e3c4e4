import { Agent, createServer, type Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, get } from '../../support/http.js';
import { absentCollectorUrl, type OtlpCollector, startOtlpCollector } from '../../support/otlp-collector.js';
import { stopRuntimes, type TestRuntime } from '../../support/runtime.js';
import { startXRayDaemon } from '../../support/xray-daemon.js';
import { callerRoot, startTraced } from './support.js';

interface StatisticsDocument {
  readonly RuleName: string;
  readonly RequestCount: number;
  readonly SampledCount: number;
}

/** A sampling rule as X-Ray's GetSamplingRules returns it. */
function rule(name: string, priority: number, urlPath: string, fixedRate: number, reservoirSize: number) {
  return {
    SamplingRule: {
      RuleName: name,
      RuleARN: `arn:aws:xray:eu-west-1:123456789012:sampling-rule/${name}`,
      Priority: priority,
      FixedRate: fixedRate,
      ReservoirSize: reservoirSize,
      ServiceName: '*',
      ServiceType: '*',
      Host: '*',
      HTTPMethod: '*',
      URLPath: urlPath,
      ResourceARN: '*',
      Version: 1,
      Attributes: {},
    },
  };
}

/**
 * The X-Ray daemon's (or the ADOT collector's awsproxy) sampling API on 127.0.0.1: rules that drop
 * `/skip*` and keep `/keep*`; targets answer with `target` for the rules reported.
 */
class RulesEndpoint {
  readonly server: Server;
  rulesRequests = 0;
  readonly reports: StatisticsDocument[][] = [];
  target: Record<string, unknown> | undefined;

  constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.method === 'POST' && req.url === '/GetSamplingRules') {
          this.rulesRequests += 1;
          res.end(
            JSON.stringify({
              SamplingRuleRecords: [
                rule('skip', 1, '/skip*', 0, 0),
                rule('keep', 2, '/keep*', 1, 0),
                rule('Default', 10_000, '*', 0.05, 1),
              ],
            }),
          );
          return;
        }
        if (req.method === 'POST' && req.url === '/SamplingTargets') {
          const documents = (JSON.parse(body) as { SamplingStatisticsDocuments: StatisticsDocument[] })
            .SamplingStatisticsDocuments;
          this.reports.push(documents);
          res.end(
            JSON.stringify({
              SamplingTargetDocuments: this.target === undefined ? [] : [this.target],
              LastRuleModification: 0,
              UnprocessedStatistics: [],
            }),
          );
          return;
        }
        res.statusCode = 404;
        res.end('{}');
      });
    });
  }

  get url(): string {
    return baseUrl(this.server);
  }
}

let collector: OtlpCollector;
let endpoint: RulesEndpoint;
const agent = new Agent({ keepAlive: true, maxSockets: 20 });

beforeAll(async () => {
  collector = await startOtlpCollector({ grpc: false });
  endpoint = new RulesEndpoint();
  await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
});

afterEach(async () => {
  await stopRuntimes();
  collector.clear();
});

afterAll(async () => {
  agent.destroy();
  await collector.close();
  await new Promise((resolve) => endpoint.server.close(resolve));
});

function startApp(env: Record<string, string>): Promise<TestRuntime> {
  return startTraced(collector, 'http/json', () => (_req, res) => res.end('ok'), { env });
}

async function send(runtime: TestRuntime['runtime'], path: string, headers: Record<string, string> = {}) {
  const response = await get(`${baseUrl(runtime.server!)}${path}`, { headers, agent });
  expect(response.status).toBe(200);
}

/** The server spans exported for `path`, after a flush. */
async function exported(runtime: TestRuntime['runtime'], path?: string) {
  await runtime.tracer.flush();
  return collector.spans.filter(
    (s) => s.kind === 'server' && (path === undefined || s.attributes['url.path'] === path),
  );
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(25);
  }
}

describe('OTEL_TRACES_SAMPLER=xray', () => {
  it('follows the centralized rules, honours Sampled=1, reports its targets and applies the answer', async () => {
    const { runtime, logs } = await startApp({
      OTEL_TRACES_SAMPLER: 'xray',
      OTEL_TRACES_SAMPLER_ARG: `endpoint=${endpoint.url},polling_interval=60`,
    });
    const started = logs.lines.find((l) => String(l.msg).startsWith('tracing through OpenTelemetry'));
    expect(started).toMatchObject({
      tracing: { sampler: 'xray', sampling: `rules from ${endpoint.url} every 60 s` },
    });
    // The start-up check and the sampler's first poll; then the rules apply.
    await until(() => endpoint.rulesRequests >= 2, 5_000, 'the rules to be read');
    await delay(100);
    for (let i = 0; i < 20; i++) {
      await send(runtime, '/skip');
      await send(runtime, '/keep');
    }
    await send(runtime, '/skip', { 'x-amzn-trace-id': `Root=${callerRoot};Sampled=1` });
    const skipped = await exported(runtime, '/skip');
    expect(skipped.map((s) => s.traceId)).toEqual(['5759e988bd862e3fe1be46a994272793']);
    expect(await exported(runtime, '/keep')).toHaveLength(20);
    expect(logs.lines.filter((l) => l.level === 'warn')).toEqual([]);

    // Targets every 10 s: the statistics of each rule go back, and the answer replaces the rule's rate.
    endpoint.target = {
      RuleName: 'skip',
      FixedRate: 1,
      ReservoirQuota: 0,
      ReservoirQuotaTTL: 0,
      Interval: 10,
    };
    await until(() => endpoint.reports.length >= 1, 12_000, 'a SamplingTargets report');
    const report = endpoint.reports[0]!;
    expect(report.find((d) => d.RuleName === 'skip')).toMatchObject({ RequestCount: 20, SampledCount: 0 });
    expect(report.find((d) => d.RuleName === 'keep')).toMatchObject({ RequestCount: 20, SampledCount: 20 });
    await delay(100);
    collector.clear();
    for (let i = 0; i < 5; i++) await send(runtime, '/skip');
    expect(await exported(runtime, '/skip')).toHaveLength(5);
  }, 30_000);

  it("applies X-Ray's default rule while the endpoint is down: 1,000 requests over 10 s", async () => {
    const down = new URL(await absentCollectorUrl()).origin;
    const { runtime, logs } = await startApp({
      OTEL_TRACES_SAMPLER: 'xray',
      OTEL_TRACES_SAMPLER_ARG: `endpoint=${down}`,
    });
    await until(() => logs.lines.some((l) => l.level === 'warn'), 3_000, 'the unreachable-endpoint warning');
    expect(logs.lines.find((l) => l.level === 'warn')).toMatchObject({
      tracing: { samplingRules: down },
      msg: expect.stringContaining("X-Ray's default rule, 1 trace per second then 5 %"),
    });
    const begin = Date.now();
    for (let batch = 0; batch < 100; batch++) {
      await Promise.all(Array.from({ length: 10 }, () => send(runtime, '/orders')));
      const due = begin + (batch + 1) * 100;
      if (due > Date.now()) await delay(due - Date.now());
    }
    const seconds = Math.ceil((Date.now() - begin) / 1000);
    const spans = await exported(runtime);
    // The reservoir gives at most one a second; 5 % of ~990 is 49.5 (σ ≈ 6.9): allow 3.5 σ.
    expect(spans.length).toBeLessThanOrEqual(seconds + 50 + 24);
    expect(spans.length).toBeGreaterThanOrEqual(25);
    // A caller's Sampled=1 is honoured whatever the rule says.
    collector.clear();
    for (let i = 0; i < 5; i++)
      await send(runtime, '/orders', { 'x-amzn-trace-id': `Root=${callerRoot};Sampled=1` });
    expect(await exported(runtime)).toHaveLength(5);
  }, 30_000);
});

describe('OTEL_TRACES_SAMPLER=xray when the X-Ray API refuses after start', () => {
  it('warns once when the polls begin to be refused, and says once when they are answered again', async () => {
    const daemon = await startXRayDaemon();
    try {
      const { logs } = await startApp({
        OTEL_TRACES_SAMPLER: 'xray',
        OTEL_TRACES_SAMPLER_ARG: `endpoint=http://127.0.0.1:${daemon.tcpPort},polling_interval=10`,
      });
      const sampling = () =>
        logs.lines.filter((l) => (l.tracing as { samplingRules?: unknown } | undefined)?.samplingRules);
      const rulesRead = () => daemon.samplingRequests.filter((r) => r.path === '/GetSamplingRules').length;
      // The start-up check and the sampler's first poll, both answered.
      await until(() => rulesRead() >= 2, 5_000, 'the rules to be read');
      await delay(100);

      // Throttled, as the X-Ray API answers through the daemon: targets every 10 s, rules every 10–15 s.
      const refusal = {
        status: 429,
        body: JSON.stringify({ __type: 'ThrottledException', message: 'Rate exceeded' }),
      };
      daemon.refuse('/GetSamplingRules', refusal);
      daemon.refuse('/SamplingTargets', refusal);
      const before = daemon.samplingRequests.length;
      await until(() => daemon.samplingRequests.length - before >= 2, 17_000, 'two refused polls');
      await delay(100);
      expect(sampling().map((l) => [l.level, l.tracing])).toEqual([
        [
          'warn',
          expect.objectContaining({ samplingRules: `http://127.0.0.1:${daemon.tcpPort}`, statusCode: 429 }),
        ],
      ]);
      expect(sampling()[0]!.msg).toMatch(
        /refuses (SamplingTargets|GetSamplingRules) \(HTTP 429\): .*the rules read last, at .*, apply until .* at the latest, then X-Ray's default rule, 1 trace per second then 5 % \(logged once until it answers\)\. The X-Ray API throttles/,
      );

      daemon.refuse('/GetSamplingRules', undefined);
      daemon.refuse('/SamplingTargets', undefined);
      // Once each poll refused is answered: rules every 10–15 s.
      await until(() => sampling().length >= 2, 17_000, 'the line saying the endpoint answers again');
      expect(sampling()[1]).toMatchObject({
        level: 'info',
        msg: `the X-Ray sampling endpoint http://127.0.0.1:${daemon.tcpPort} answers again`,
        tracing: { failedPolls: expect.any(Number) },
      });
      expect(logs.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    } finally {
      await stopRuntimes();
      await daemon.close();
    }
  }, 50_000);
});

describe('the default sampler when tracing turns on by itself on AWS', () => {
  it("is X-Ray's default rule, parent-based, and the start-up line says so", async () => {
    const { runtime, logs } = await startApp({ OTEL_RESOURCE_ATTRIBUTES: 'cloud.platform=aws_app_runner' });
    expect(logs.lines.find((l) => String(l.msg).startsWith('tracing through OpenTelemetry'))).toMatchObject({
      msg: expect.stringMatching(/, sampler parentbased_xray_default_rule$/),
      tracing: {
        sampler: 'parentbased_xray_default_rule',
        sampling: expect.stringContaining('aws_app_runner'),
      },
    });
    const begin = Date.now();
    await Promise.all(Array.from({ length: 100 }, () => send(runtime, '/orders')));
    const seconds = Math.ceil((Date.now() - begin) / 1000);
    const spans = await exported(runtime);
    expect(spans.length).toBeGreaterThanOrEqual(1);
    expect(spans.length).toBeLessThanOrEqual(seconds + 5 + 12);
    collector.clear();
    await send(runtime, '/orders', { 'x-amzn-trace-id': `Root=${callerRoot};Sampled=1` });
    expect(await exported(runtime)).toHaveLength(1);
  });
});
