import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { AppMetrics } from '../../../src/metrics/app-metrics.js';
import { type EmfGroup, emfLines } from '../../../src/metrics/emf-lines.js';
import { RuntimeMetricsSource, runtimeMetricNames } from '../../../src/metrics/runtime-metrics.js';
import { type EmfDocument, parseEmf } from '../../support/emf.js';

const dimensions = Object.freeze({ Service: 'notes', Environment: 'test' });
const sources: RuntimeMetricsSource[] = [];
afterEach(() => {
  for (const source of sources.splice(0)) source.stop();
});

function source(): RuntimeMetricsSource {
  const made = new RuntimeMetricsSource(dimensions);
  sources.push(made);
  return made;
}

/** One flush of `source`: its EMF documents, validated against the specification. */
function flushed(from: { collect(groups: EmfGroup[]): void }): EmfDocument[] {
  const groups: EmfGroup[] = [];
  from.collect(groups);
  return groups.flatMap((group) =>
    emfLines(group, { namespace: 'NotesApi', timestamp: Date.now() }).map((line) => parseEmf(line)),
  );
}

function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the event loop is blocked
  }
}

describe('runtime metrics', () => {
  it('write one valid document per flush with every figure, its unit and the default dimensions only', async () => {
    const runtime = source();
    await delay(60);
    const [document, ...rest] = flushed(runtime);
    expect(rest).toEqual([]);
    const directive = document!._aws.CloudWatchMetrics[0]!;
    expect(directive.Dimensions).toEqual([['Service', 'Environment']]);
    expect(Object.fromEntries(directive.Metrics.map((m) => [m.Name, m.Unit]))).toEqual(runtimeMetricNames);
    expect(document!.HeapUsed).toBeGreaterThan(1_000_000);
    expect(document!.HeapLimit as number).toBeGreaterThan(document!.HeapUsed as number);
    expect(document!.Rss as number).toBeGreaterThan(document!.HeapUsed as number);
    expect(document!.EventLoopUtilization).toBeGreaterThanOrEqual(0);
    expect(document!.EventLoopUtilization).toBeLessThanOrEqual(100);
    expect(document!.ActiveResources).toBeGreaterThan(0);
  });

  it('see the event loop blocked for 50 ms in that interval, and not in the next (an idle loop reads ~0)', async () => {
    const runtime = source();
    await delay(60);
    flushed(runtime);
    // The first sample after a flush only starts the clock: block once sampling runs again.
    await delay(50);
    block(50);
    await delay(60);
    const [blocked] = flushed(runtime);
    await delay(100);
    const [calm] = flushed(runtime);
    // The delay beyond the 20 ms sampling interval: a 50 ms block reads as 30 to 50 ms.
    expect(blocked!.EventLoopDelayMax).toBeGreaterThanOrEqual(25);
    expect(blocked!.EventLoopUtilization).toBeGreaterThan(30);
    expect(calm!.EventLoopDelayMax).toBeLessThan(15);
    expect(calm!.EventLoopDelayP50).toBeLessThan(5);
  });

  it('see heap held by the app, and count garbage collections with their pauses', async () => {
    const runtime = source();
    const before = flushed(runtime)[0]!.HeapUsed as number;
    const held = Array.from({ length: 40 }, (_, i) => new Array<number>(250_000).fill(i));
    await delay(50);
    const after = flushed(runtime)[0]!;
    expect((after.HeapUsed as number) - before).toBeGreaterThan(40 * 1_000_000);
    expect(after.GcCount).toBeGreaterThan(0);
    expect(after.GcPauseTime).toBeGreaterThan(0);
    expect(held).toHaveLength(40);
  });

  it('write nothing once stopped', () => {
    const runtime = source();
    runtime.stop();
    runtime.stop();
    expect(flushed(runtime)).toEqual([]);
  });
});

describe('high-resolution app metrics', () => {
  it('carry StorageResolution 1; one name keeps one resolution', () => {
    const app = new AppMetrics({ enabled: true, dimensions });
    app.count('CheckoutErrors', 2, undefined, { highResolution: true });
    app.record('PaymentLatency', 12, 'Milliseconds', { Plan: 'pro' }, { highResolution: true });
    app.count('OrdersPlaced');
    const definitions = flushed(app).flatMap((d) => d._aws.CloudWatchMetrics[0]!.Metrics);
    expect(definitions).toEqual(
      expect.arrayContaining([
        { Name: 'CheckoutErrors', Unit: 'Count', StorageResolution: 1 },
        { Name: 'PaymentLatency', Unit: 'Milliseconds', StorageResolution: 1 },
        { Name: 'OrdersPlaced', Unit: 'Count' },
      ]),
    );
    expect(() => app.count('CheckoutErrors')).toThrow(/already used with count\(\) at high resolution/);
    expect(() => app.count('Other', 1, undefined, { highResolution: 'yes' as unknown as boolean })).toThrow(
      /options must be \{ highResolution\?: boolean \}/,
    );
  });
});
