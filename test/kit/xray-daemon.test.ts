import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import AWSXRay from 'aws-xray-sdk-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { get } from '../support/http.js';
import { startXRayDaemon, type XRayDaemon, xrayDaemonAddress } from '../support/xray-daemon.js';

/** The SDK's own client of the daemon's sampling proxy (not in its typings, so typed here). */
interface ServiceConnector {
  fetchSamplingRules(callback: (error: Error | null, rules?: { getName(): string }[]) => void): void;
  fetchTargets(
    rules: { getName(): string }[],
    callback: (error: Error | null, targets?: Record<string, { rate: number; quota: number }>) => void,
  ): void;
}
const serviceConnector = createRequire(import.meta.url)(
  'aws-xray-sdk-core/dist/lib/middleware/sampling/service_connector',
) as ServiceConnector;

const warnings: string[] = [];
let daemon: XRayDaemon;

beforeAll(async () => {
  AWSXRay.setLogger({
    debug() {},
    info() {},
    warn: (...args: unknown[]) => warnings.push(args.map(String).join(' ')),
    error: (...args: unknown[]) => warnings.push(args.map(String).join(' ')),
  });
  daemon = await startXRayDaemon();
  AWSXRay.setDaemonAddress(daemon.address);
});

afterEach(() => {
  daemon.clear();
  AWSXRay.setStreamingThreshold(100);
});

afterAll(async () => {
  await daemon.close();
});

function sendRaw(port: number, text: string): Promise<void> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.send(text, port, '127.0.0.1', (error) => {
      socket.close();
      if (error) reject(error);
      else resolve();
    });
  });
}

describe('xrayDaemonAddress', () => {
  it('uses the plain host:port form for one shared port, else the udp:/tcp: form', () => {
    expect(xrayDaemonAddress(2000)).toBe('127.0.0.1:2000');
    expect(xrayDaemonAddress(2000, 2000)).toBe('127.0.0.1:2000');
    expect(xrayDaemonAddress(2000, 2001)).toBe('udp:127.0.0.1:2000 tcp:127.0.0.1:2001');
  });

  it('shares the port between UDP and TCP by default, like the real daemon', () => {
    expect(daemon.udpPort).toBe(daemon.tcpPort);
    expect(daemon.address).toBe(`127.0.0.1:${daemon.udpPort}`);
  });
});

describe('segments from aws-xray-sdk-core over UDP', () => {
  it('collects a segment and its nested subsegment', async () => {
    const segment = new AWSXRay.Segment('kit-service');
    const subsegment = segment.addNewSubsegment('postgres');
    subsegment.addAnnotation('table', 'users');
    subsegment.close();
    segment.close();
    await daemon.waitFor((d) => d.segments.length === 1, 2_000);
    const [received] = daemon.segments;
    expect(received).toMatchObject({
      traceId: segment.trace_id,
      id: segment.id,
      name: 'kit-service',
      inProgress: false,
    });
    expect(received?.traceId).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(daemon.subsegments).toEqual([
      expect.objectContaining({
        name: 'postgres',
        parentId: segment.id,
        traceId: segment.trace_id,
        independent: false,
      }),
    ]);
    expect(daemon.subsegments[0]?.document.annotations).toEqual({ table: 'users' });
    expect(daemon.malformed).toEqual([]);
  });

  it('collects independent subsegments (type "subsegment") streamed before their segment closes', async () => {
    AWSXRay.setStreamingThreshold(0);
    const segment = new AWSXRay.Segment('streaming-service');
    const outer = segment.addNewSubsegment('outer');
    const inner = outer.addNewSubsegment('inner');
    const still = segment.addNewSubsegment('still-open');
    inner.close();
    outer.close();
    await daemon.waitFor((d) => d.subsegments.some((s) => s.name === 'outer'), 2_000);
    const streamed = daemon.subsegments.find((s) => s.name === 'outer');
    expect(streamed).toMatchObject({ independent: true, parentId: segment.id, traceId: segment.trace_id });
    expect(streamed?.document.type).toBe('subsegment');
    expect(daemon.segments).toEqual([]);
    still.close();
    segment.close();
    await daemon.waitFor((d) => d.segments.length === 1, 2_000);
    expect(daemon.segments[0]?.id).toBe(segment.id);
  });

  it('records malformed datagrams with the reason, and keeps nothing of them', async () => {
    const header = '{"format":"json","version":1}\n';
    const good = {
      trace_id: '1-5f84c7a1-0123456789abcdef01234567',
      id: '0123456789abcdef',
      name: 'ok',
      start_time: 1,
    };
    await sendRaw(daemon.udpPort, JSON.stringify(good));
    await sendRaw(
      daemon.udpPort,
      `{"format":"xml","version":1}\n${JSON.stringify({ ...good, end_time: 2 })}`,
    );
    await sendRaw(daemon.udpPort, `${header}{not json`);
    await sendRaw(daemon.udpPort, `${header}${JSON.stringify(good)}`);
    await sendRaw(daemon.udpPort, `${header}${JSON.stringify({ ...good, end_time: 2, trace_id: 'abc' })}`);
    await sendRaw(
      daemon.udpPort,
      `${header}${JSON.stringify({ ...good, end_time: 2, subsegments: [{ id: 'fedcba9876543210', name: 'x' }] })}`,
    );
    await sendRaw(
      daemon.udpPort,
      `${header}${JSON.stringify({ ...good, id: '1111111111111111', end_time: 2, type: 'subsegment' })}`,
    );
    await daemon.waitFor((d) => d.datagrams === 7, 2_000);
    expect(daemon.malformed.map((m) => m.reason)).toEqual([
      'no header line',
      'header is not {"format":"json","version":1}',
      'document is not JSON',
      '0123456789abcdef: neither end_time nor in_progress',
      '0123456789abcdef: bad trace_id abc',
      'fedcba9876543210: missing start_time',
      '1111111111111111: independent subsegment without parent_id',
    ]);
    expect(daemon.segments).toEqual([]);
    expect(daemon.subsegments).toEqual([]);
  });
});

describe('sampling over TCP', () => {
  it("answers the SDK's GetSamplingRules and SamplingTargets with the default rule", async () => {
    const rules = await new Promise<{ getName(): string }[]>((resolve, reject) => {
      serviceConnector.fetchSamplingRules((error, fetched) =>
        error ? reject(error) : resolve(fetched ?? []),
      );
    });
    expect(rules.map((rule) => rule.getName())).toEqual(['Default']);
    const targets = await new Promise<Record<string, { rate: number; quota: number }>>((resolve, reject) => {
      serviceConnector.fetchTargets(rules, (error, mapping) =>
        error ? reject(error) : resolve(mapping ?? {}),
      );
    });
    expect(targets).toEqual({ Default: expect.objectContaining({ rate: 0.05, quota: 1 }) });
    expect(daemon.samplingRequests.map((r) => r.path)).toEqual(['/GetSamplingRules', '/SamplingTargets']);
    expect(daemon.samplingRequests[1]?.body).toMatchObject({
      SamplingStatisticsDocuments: [expect.objectContaining({ RuleName: 'Default', RequestCount: 0 })],
    });
  });

  it('is polled by the centralized sampler when a request needs a sampling decision', async () => {
    const app = createServer((req, res) => {
      const segment = new AWSXRay.Segment('sampled-app');
      AWSXRay.middleware.resolveSampling({}, segment, res);
      res.end(req.url);
    });
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    try {
      await get(`http://127.0.0.1:${(app.address() as AddressInfo).port}/x`);
      await daemon.waitFor((d) => d.samplingRequests.some((r) => r.path === '/GetSamplingRules'), 2_000);
    } finally {
      app.close();
    }
  });

  it('serves a split UDP/TCP daemon through the udp:/tcp: address form', async () => {
    const split = await startXRayDaemon({
      sharePort: false,
      samplingRules: [{ RuleName: 'Mine', Priority: 1, FixedRate: 1, ReservoirSize: 5 }],
    });
    try {
      expect(split.udpPort).not.toBe(split.tcpPort);
      AWSXRay.setDaemonAddress(split.address);
      const segment = new AWSXRay.Segment('split');
      segment.close();
      await split.waitFor((d) => d.segments.length === 1, 2_000);
      const rules = await new Promise<{ getName(): string }[]>((resolve, reject) => {
        serviceConnector.fetchSamplingRules((error, fetched) =>
          error ? reject(error) : resolve(fetched ?? []),
        );
      });
      expect(rules.map((rule) => rule.getName())).toEqual(['Mine']);
      expect(daemon.segments).toEqual([]);
    } finally {
      AWSXRay.setDaemonAddress(daemon.address);
      await split.close();
    }
  });
});
