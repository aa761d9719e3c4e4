import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, get } from '../../support/http.js';
import { stopRuntimes } from '../../support/runtime.js';
import {
  type CollectedSegment,
  DEFAULT_SAMPLING_RULE,
  startXRayDaemon,
  type XRayDaemon,
  xrayDaemonAddress,
} from '../../support/xray-daemon.js';
import { segmentFor, startXray } from './xray-support.js';

let daemon: XRayDaemon;

beforeAll(async () => {
  daemon = await startXRayDaemon({ sharePort: false });
});

afterEach(async () => {
  await stopRuntimes();
  daemon.clear();
  daemon.setSamplingRules([DEFAULT_SAMPLING_RULE]);
});

afterAll(async () => {
  await daemon.close();
});

/** A port nothing listens on, UDP or TCP, on 127.0.0.1. */
async function absentPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The centralized rule that sampled `segment` (`aws.xray.rule_name`), if one did. */
function ruleOf(segment: CollectedSegment): string | undefined {
  return (segment.document.aws as { xray?: { rule_name?: string } } | undefined)?.xray?.rule_name;
}

/**
 * Sends requests until one is sampled by the centralized rule `rule`: until then the kit may not
 * have read the daemon's rules yet, and its local default rule decides.
 */
async function untilRuleApplies(
  runtime: { tracer: { flush(): Promise<void> } },
  send: (i: number) => Promise<unknown>,
  rule: string,
): Promise<void> {
  await daemon.waitFor((d) => d.samplingRequests.some((r) => r.path === '/GetSamplingRules'));
  for (let i = 0; i < 80 && !daemon.segments.some((s) => ruleOf(s) === rule); i++) {
    await send(i);
    await runtime.tracer.flush();
    await delay(25);
  }
  expect(daemon.segments.map(ruleOf)).toContain(rule);
}

const outage = /^the X-Ray daemon at .* does not answer: .* until it does \(logged once per outage\)$/;
const daemonLines = (lines: readonly Record<string, unknown>[]) =>
  lines.filter((l) => typeof l.msg === 'string' && /X-Ray (?:daemon|API)|aws-xray-sdk-core/.test(l.msg));

describe('a daemon that is not there', () => {
  it.each(['local', 'centralized'] as const)(
    'leaves requests unaffected and is logged once, not per segment (%s sampling)',
    async (sampling) => {
      const port = await absentPort();
      const { runtime, logs } = await startXray(daemon, () => (_req, res) => res.end('ok'), {
        env: { AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${port}` },
        tracing: { xray: { sampling, samplingRules: { version: 2, default: { fixed_target: 0, rate: 1 } } } },
      });
      for (let batch = 0; batch < 4; batch++) {
        const answers = await Promise.all(
          Array.from({ length: 10 }, () => get(`${baseUrl(runtime.server!)}/`)),
        );
        expect(answers.map((a) => `${a.status} ${a.body}`)).toEqual(Array(10).fill('200 ok'));
        await runtime.tracer.flush();
        await delay(20);
      }
      const lines = daemonLines(logs.lines);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 'warn', tracing: { daemon: `127.0.0.1:${port}` } });
      expect(lines[0]!.msg).toMatch(outage);
      expect(lines[0]).not.toHaveProperty('requestId'); // the daemon's, not a request's
      expect(logs.find('request completed')).toHaveLength(40);
    },
  );

  it('drops segments while it is away (one probe every 500 ms), and is logged once when it is back', async () => {
    const port = await absentPort();
    const { runtime, logs } = await startXray(daemon, () => (_req, res) => res.end(), {
      env: { AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${port}` },
    });
    for (let i = 0; i < 20; i++) {
      await get(`${baseUrl(runtime.server!)}/down`);
      await runtime.tracer.flush();
      await delay(10);
    }
    const back: Socket = createSocket('udp4');
    const datagrams: string[] = [];
    back.on('message', (message) => datagrams.push(message.toString()));
    back.bind(port, '127.0.0.1');
    await once(back, 'listening');
    try {
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline && !logs.lines.some((l) => l.msg === 'the X-Ray daemon answers again')) {
        await get(`${baseUrl(runtime.server!)}/up`);
        await delay(50);
      }
      // While it was away, each probe after the first refusal was followed by a refusal: the rest dropped.
      const lines = daemonLines(logs.lines);
      expect(lines.map((l) => l.level)).toEqual(['warn', 'info']);
      expect(lines[1]).toMatchObject({ msg: 'the X-Ray daemon answers again' });
      for (const line of lines) expect(line).not.toHaveProperty('requestId');
      expect(lines[1]!.droppedSegments).toBeGreaterThanOrEqual(10);
      const before = datagrams.length;
      for (let i = 0; i < 5; i++) await get(`${baseUrl(runtime.server!)}/after`);
      await runtime.tracer.flush();
      await delay(50);
      expect(datagrams.length - before).toBe(5); // every segment sent again
      expect(datagrams.some((d) => d.includes('/down'))).toBe(false);
    } finally {
      back.close();
    }
  });

  it('a host name that does not resolve: requests unaffected, one warning', async () => {
    // A label longer than 63 characters fails in the resolver itself: no DNS query leaves the machine.
    const unresolvable = `${'a'.repeat(64)}.invalid`;
    const { runtime, logs } = await startXray(daemon, () => (_req, res) => res.end('ok'), {
      env: { AWS_XRAY_DAEMON_ADDRESS: `${unresolvable}:2000` },
      tracing: { xray: { sampling: 'local' } },
    });
    for (let i = 0; i < 5; i++) {
      expect((await get(`${baseUrl(runtime.server!)}/`)).status).toBe(200);
      await runtime.tracer.flush();
    }
    await delay(100);
    expect(daemonLines(logs.lines)).toEqual([
      expect.objectContaining({ level: 'warn', tracing: expect.objectContaining({ channel: 'udp' }) }),
    ]);
  });
});

describe('centralized sampling', () => {
  it('polls the rules from the daemon only, and applies them (the matched rule on the segment)', async () => {
    daemon.setSamplingRules([
      { RuleName: 'notes', Priority: 1, FixedRate: 1, ReservoirSize: 0, URLPath: '/notes/*' },
      { RuleName: 'Default', Priority: 10000, FixedRate: 0, ReservoirSize: 0 },
    ]);
    expect(daemon.address).toBe(xrayDaemonAddress(daemon.udpPort, daemon.tcpPort));
    expect(daemon.address).toMatch(/^udp:127\.0\.0\.1:\d+ tcp:127\.0\.0\.1:\d+$/);
    const { runtime, logs } = await startXray(daemon, () => (_req, res) => res.end(), {
      tracing: { mode: 'xray' },
    });
    await untilRuleApplies(runtime, (i) => get(`${baseUrl(runtime.server!)}/notes/${i}`), 'notes');
    expect(daemon.samplingRequests[0]).toEqual({ path: '/GetSamplingRules', body: {} });
    expect(logs.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    expect(daemonLines(logs.lines)).toEqual([]);
  });

  it.each([
    [
      403,
      '{"message":"User: arn:aws:sts::123456789012:assumed-role/app is not authorized to perform: xray:GetSamplingRules"}',
      'Give the instance role xray:GetSamplingRules',
    ],
    [429, 'Too Many Requests', 'throttles the calls of every instance'],
  ])(
    'tells the X-Ray API refusing GetSamplingRules (HTTP %i) from a daemon that does not answer',
    async (status, body, hint) => {
      daemon.refuse('/GetSamplingRules', { status, body });
      try {
        const { logs } = await startXray(daemon, () => (_req, res) => res.end(), {
          tracing: { mode: 'xray' },
        });
        await daemon.waitFor((d) => d.samplingRequests.some((r) => r.path === '/GetSamplingRules'));
        await expect.poll(() => daemonLines(logs.lines).length).toBeGreaterThan(0);
        await delay(50);
        const lines = daemonLines(logs.lines);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({
          level: 'warn',
          tracing: { operation: 'GetSamplingRules', statusCode: status },
        });
        expect(lines[0]!.msg).toMatch(
          new RegExp(
            `^the X-Ray API refused GetSamplingRules through the daemon at .* \\(HTTP ${status}\\): centralized sampling rules are not fetched`,
          ),
        );
        expect(lines[0]!.msg).toContain(hint);
        expect(lines[0]!.msg).not.toMatch(outage);
      } finally {
        daemon.refuse('/GetSamplingRules', undefined);
      }
    },
  );

  it('samples a span outside any request by the catch-all rules and the default only, not by the first rule', async () => {
    daemon.setSamplingRules([
      {
        RuleName: 'orders',
        Priority: 1,
        FixedRate: 1,
        ReservoirSize: 0,
        HTTPMethod: 'POST',
        URLPath: '/orders*',
      },
      { RuleName: 'Default', Priority: 10000, FixedRate: 0, ReservoirSize: 0 },
    ]);
    const { runtime } = await startXray(daemon, () => (_req, res) => res.end(), {
      tracing: { mode: 'xray' },
    });
    await untilRuleApplies(
      runtime,
      (i) => get(`${baseUrl(runtime.server!)}/orders/${i}`, { method: 'POST' }),
      'orders',
    );
    daemon.clear();

    for (let i = 0; i < 10; i++) await runtime.tracer.span('nightly cleanup', async () => {});
    await runtime.tracer.flush();
    await delay(50);
    expect(daemon.segments).toEqual([]);
  });

  it.each([
    ['a rule for POST /orders*', 0, { host: '*', http_method: 'POST', url_path: '/orders*' }],
    ['a catch-all rule', 10, { host: '*', http_method: '*', url_path: '*' }],
  ])('local rules: %s samples %i of 10 spans outside any request', async (_name, recorded, match) => {
    const { runtime } = await startXray(daemon, () => (_req, res) => res.end(), {
      tracing: {
        mode: 'xray',
        xray: {
          sampling: 'local',
          samplingRules: {
            version: 2,
            default: { fixed_target: 0, rate: 0 },
            rules: [{ ...match, fixed_target: 0, rate: 1 }],
          },
        },
      },
    });
    for (let i = 0; i < 10; i++) await runtime.tracer.span('nightly cleanup', async () => {});
    await runtime.tracer.flush();
    await delay(50);
    expect(daemon.segments).toHaveLength(recorded);
  });

  it('local sampling polls nothing', async () => {
    const { runtime } = await startXray(daemon, () => (_req, res) => res.end());
    await get(`${baseUrl(runtime.server!)}/notes/1`);
    await runtime.tracer.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    expect(segmentFor(daemon, '/notes/1').document.aws).not.toHaveProperty('xray.rule_name');
    await delay(100);
    expect(daemon.samplingRequests).toEqual([]);
  });
});
