import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/logging/logger.js';
import { StdoutDestination } from '../../../src/logging/stdout-destination.js';
import { type EmfGroup, emfLines } from '../../../src/metrics/emf-lines.js';
import { MetricsPublisher } from '../../../src/metrics/publisher.js';
import type { MetricSource } from '../../../src/metrics/source.js';
import { captureLogs } from '../../support/log-capture.js';
import { pipeThatFills } from '../../support/stalled-pipe.js';

/** A source that hands the same groups to every flush. */
function sourceOf(...groups: EmfGroup[]): MetricSource {
  return {
    collect: (into) => {
      into.push(...groups);
    },
  };
}

describe('MetricsPublisher', () => {
  it('writes a line its dimensions make longer than 16,000 bytes, and says so once per set of dimensions', () => {
    const logs = captureLogs();
    const lines: string[] = [];
    const long = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`Dim${i}`, 'v'.repeat(1_000)]));
    const publisher = new MetricsPublisher({
      namespace: 'NotesApi',
      flushIntervalMs: 60_000,
      destination: { write: (line) => lines.push(line) },
      sources: [
        sourceOf(
          { dimensions: long, metrics: [{ name: 'Orders', unit: 'Count', value: 1 }] },
          { dimensions: { Service: 'notes' }, metrics: [{ name: 'Orders', unit: 'Count', value: 2 }] },
        ),
      ],
      logger: createLogger({ service: 't', destination: logs }),
    });

    expect(publisher.flush()).toBe(2);
    expect(publisher.flush()).toBe(2);

    expect(lines[0]!.length).toBeGreaterThan(20_000);
    expect(JSON.parse(lines[0]!).Orders).toBe(1);
    expect(logs.lines).toHaveLength(1);
    expect(logs.lines[0]).toMatchObject({
      level: 'warn',
      metrics: { lineBytes: lines[0]!.length - 1, dimensions: Object.keys(long) },
    });
    expect(String(logs.lines[0]!.msg)).toMatch(/^metrics: an EMF line of \d+ bytes is over 16000/);
  });

  it("counts the EMF lines the kit's stdout writer dropped, and says so once they and its line get through", async () => {
    const logs = captureLogs();
    const { write, written, drain, allow } = pipeThatFills();
    const group: EmfGroup = {
      dimensions: { Service: 'notes' },
      metrics: [{ name: 'Orders', unit: 'Count', value: 1 }],
    };
    const lineBytes = emfLines(group, { namespace: 'NotesApi', timestamp: Date.now() })[0]!.length + 1;
    // Room for one EMF line past the 1,000 bytes at which log lines are dropped.
    const stdout = new StdoutDestination(1, { maxPendingBytes: 1_000, reservedBytes: lineBytes, write });
    for (let i = 0; i < 101; i++) stdout.write('log line.\n'); // 1,010 bytes wait: log lines drop
    const publisher = new MetricsPublisher({
      namespace: 'NotesApi',
      flushIntervalMs: 60_000,
      destination: stdout,
      sources: [sourceOf(group)],
      logger: createLogger({ service: 't', destination: logs }),
    });

    expect(publisher.flush()).toBe(1); // kept in the reserve past the log lines' backlog
    expect(publisher.flush()).toBe(0); // past the reserve too: dropped, and counted
    expect(publisher.flush()).toBe(0);
    // stdout takes a little: an EMF line gets through the reserve, a log line would still be dropped.
    allow(lineBytes);
    await vi.waitFor(() => expect(written.join('')).toHaveLength(lineBytes));
    expect(publisher.flush()).toBe(1);
    expect(stdout.takesLines).toBe(false);
    expect(logs.lines).toEqual([]); // its line would be dropped: not said yet

    drain();
    await new Promise<void>((resolve) => stdout.flush(() => resolve()));
    expect(publisher.flush()).toBe(1);
    expect(logs.lines).toHaveLength(1);
    expect(logs.lines[0]).toMatchObject({ level: 'error', metrics: { linesDropped: 2 } });
    expect(String(logs.lines[0]!.msg)).toContain('2 EMF lines dropped while stdout took nothing');
  });
});
