import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SupportedApp } from '../../../src/index.js';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes, type TestRuntime } from '../../support/runtime.js';
import { zodLikeError } from '../../support/xray/errors.js';
import { startXRayDaemon, type XRayDaemon } from '../../support/xray-daemon.js';
import { childrenOf, expectWellFormed, sampleEverything, segmentFor } from './xray-support.js';

/** What the daemon reads in one datagram, the protocol's header line included. */
const maxDatagram = 65_507;

let daemon: XRayDaemon;

beforeAll(async () => {
  daemon = await startXRayDaemon();
});

afterEach(async () => {
  await stopRuntimes();
  daemon.clear();
});

afterAll(async () => {
  await daemon.close();
});

interface Exception {
  message: string;
  type: string;
  stack?: { path: string; label: string }[];
}

const lines = (n: number) =>
  Array.from({ length: n }, (_, i) => `field_${i}: must be a string of at most 64 characters`).join('\n');

/** An Express app tracing to the daemon, every request sampled; `routes` adds its routes. */
async function startApp(routes: (app: express.Express, runtime: () => TestRuntime['runtime']) => void) {
  const app = express();
  let started: TestRuntime | undefined;
  routes(app, () => started!.runtime);
  started = await startRuntime({
    service: 'orders',
    app: app as unknown as SupportedApp,
    tracing: { mode: 'xray', xray: { sampling: 'local', samplingRules: sampleEverything } },
    env: { AWS_XRAY_DAEMON_ADDRESS: daemon.address },
  });
  return started;
}

async function request(started: TestRuntime, path: string): Promise<void> {
  await get(`${baseUrl(started.runtime.server!)}${path}`);
  await started.runtime.tracer.flush();
}

describe('X-Ray documents larger than a datagram', () => {
  it('a ZodError passed to next(): the segment arrives, under 64 KB, its message bounded and only real frames', async () => {
    const started = await startApp((app) => {
      app.get('/orders', (req, _res, next) => {
        next(Object.assign(zodLikeError(Number(req.query.issues)), { status: 400 }));
      });
    });
    for (const issues of [100, 400]) await request(started, `/orders?issues=${issues}`);
    await daemon.waitFor((d) => d.segments.length === 2);

    for (const segment of daemon.segments) {
      expect(Buffer.byteLength(JSON.stringify(segment.document))).toBeLessThan(maxDatagram);
      expect(segment.document).toMatchObject({ error: true, http: { response: { status: 400 } } });
      const [exception] = (segment.document.cause as { exceptions: Exception[] }).exceptions;
      expect(exception!.type).toBe('ZodError');
      expect(exception!.message.length).toBeLessThanOrEqual(2_100);
      expect(exception!.message).toMatch(/^\[\n {2}\{\n {4}"code": "invalid_type"/);
      expect(exception!.message).toMatch(/characters cut\]$/);
      expect(exception!.stack!.length).toBeGreaterThan(0);
      expect(exception!.stack!.length).toBeLessThanOrEqual(50);
      expect(JSON.stringify(exception!.stack)).not.toContain('invalid_type');
    }
    expect(expectWellFormed(daemon)).toEqual([]);
  });

  it('a span with a 2,000-line error: its subsegment arrives, and the route’s segment points at its exception', async () => {
    const started = await startApp((app, runtime) => {
      app.get('/validate', async (_req, _res, next) => {
        try {
          await runtime().tracer.span('validate', () => {
            throw new Error(lines(2_000));
          });
        } catch (error) {
          next(Object.assign(error as Error, { status: 400 }));
        }
      });
    });
    await request(started, '/validate');
    await daemon.waitFor((d) => d.segments.length === 1);

    const [segment] = daemon.segments;
    const [span] = childrenOf(daemon, segment!.id);
    expect(span).toMatchObject({ name: 'validate' });
    const [exception] = (span!.document.cause as { exceptions: Exception[] }).exceptions;
    expect(exception!.message.startsWith('field_0: must be')).toBe(true);
    expect(exception!.message.length).toBeLessThanOrEqual(2_100);
    expect(JSON.stringify(exception!.stack)).not.toContain('field_');
    // The same error, recorded by the segment too: a reference to the span's, not a second copy.
    expect(segment!.document.cause).toEqual({ id: span!.id });
  });

  it('large metadata and 20 spans: the segment arrives without its metadata, marked, and its 20 spans with it', async () => {
    const started = await startApp((app, runtime) => {
      app.get('/report', async (_req, res) => {
        const { tracer } = runtime();
        for (let i = 0; i < 20; i++) await tracer.span(`step ${i}`, async () => undefined);
        tracer.setAttributes({ ids: Array.from({ length: 8_000 }, (_, i) => `id-${i}-aaaa`), tier: 'pro' });
        res.end('ok');
      });
    });
    await request(started, '/report');
    await daemon.waitFor((d) => d.segments.length === 1 && d.subsegments.length === 20);

    const segment = segmentFor(daemon, '/report');
    expect(segment.document).toMatchObject({
      annotations: { tier: 'pro', apprunner_kit_omitted: 'metadata' },
    });
    expect(segment.document).not.toHaveProperty('metadata');
    const spans = daemon.subsegments;
    expect(spans.every((span) => span.independent && span.parentId === segment.id)).toBe(true);
    expect(expectWellFormed(daemon)).toEqual([]);
  });

  it('a span that records 2,000 errors: it arrives with the first that fit, the others counted', async () => {
    const started = await startApp((app, runtime) => {
      app.get('/batch', async (_req, res) => {
        await runtime().tracer.span('import rows', (span) => {
          for (let i = 0; i < 2_000; i++) span.recordError(new Error(`row ${i}: bad value`));
        });
        res.end('ok');
      });
    });
    await request(started, '/batch');
    await daemon.waitFor((d) => d.segments.length === 1 && d.subsegments.length === 1);

    const [span] = daemon.subsegments;
    expect(Buffer.byteLength(JSON.stringify(span!.document))).toBeLessThan(maxDatagram);
    const { exceptions } = span!.document.cause as { exceptions: Exception[] };
    const omitted = (span!.document.annotations as Record<string, string>).apprunner_kit_omitted;
    const [, count] = /^stacks exceptions:(\d+)$/.exec(omitted!) ?? [];
    expect(exceptions.length).toBeGreaterThan(100);
    expect(exceptions.length + Number(count)).toBe(2_000);
    // The SDK puts a subsegment's newest exception first: the first kept are the last recorded.
    expect(exceptions[0]!.message).toBe('row 1999: bad value');
    expect(expectWellFormed(daemon)).toEqual([]);
  });

  it('100 annotations of 900 characters: the segment arrives with those that fit, marked; one warning for several requests', async () => {
    const started = await startApp((app, runtime) => {
      app.get('/annotated', (_req, res) => {
        const attributes: Record<string, string> = {};
        for (let i = 0; i < 100; i++) attributes[`k${i}`] = 'v'.repeat(900);
        runtime().tracer.setAttributes(attributes);
        res.end('ok');
      });
    });
    for (let i = 0; i < 3; i++) await request(started, '/annotated');
    await daemon.waitFor((d) => d.segments.length === 3);

    for (const segment of daemon.segments) {
      const annotations = segment.document.annotations as Record<string, string>;
      expect(annotations.apprunner_kit_omitted).toBe('annotations');
      expect(Object.keys(annotations).length).toBeGreaterThan(50);
      expect(Object.keys(annotations).length).toBeLessThan(101);
    }
    const warnings = started.logs.lines.filter(
      (line) => typeof line.msg === 'string' && line.msg.includes('larger than a UDP datagram'),
    );
    expect(warnings).toEqual([
      expect.objectContaining({
        level: 'warn',
        tracing: expect.objectContaining({ oversize: expect.objectContaining({ shrunk: 1, dropped: 0 }) }),
      }),
    ]);
  });
});
