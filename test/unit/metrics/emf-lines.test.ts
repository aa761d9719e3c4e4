import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { type EmfMetric, emfLines } from '../../../src/metrics/emf-lines.js';
import { ValueHistogram } from '../../../src/metrics/histogram.js';
import { parseEmf } from '../../support/emf.js';

const options = { namespace: 'NotesApi', timestamp: Date.now() };
const dimensions = { Service: 'notes', Environment: 'prod' };

describe('emfLines', () => {
  it('writes one valid line: directive, dimension set, definitions, and the values on the root node', () => {
    const [line, ...rest] = emfLines(
      { dimensions, metrics: [{ name: 'Requests', unit: 'Count', value: 12 }] },
      options,
    );
    expect(rest).toEqual([]);
    expect(parseEmf(line!)).toEqual({
      _aws: {
        Timestamp: options.timestamp,
        CloudWatchMetrics: [
          {
            Namespace: 'NotesApi',
            Dimensions: [['Service', 'Environment']],
            Metrics: [{ Name: 'Requests', Unit: 'Count' }],
          },
        ],
      },
      Service: 'notes',
      Environment: 'prod',
      Requests: 12,
    });
  });

  it('splits 250 metrics into lines of at most 100', () => {
    const metrics: EmfMetric[] = Array.from({ length: 250 }, (_, i) => ({
      name: `M${i}`,
      unit: 'Count',
      value: i,
    }));
    const lines = emfLines({ dimensions, metrics }, options);
    const documents = lines.map((line) => parseEmf(line));
    expect(documents.map((d) => d._aws.CloudWatchMetrics[0]!.Metrics.length)).toEqual([100, 100, 50]);
    const all = documents.flatMap((d) => d._aws.CloudWatchMetrics[0]!.Metrics.map((m) => d[m.Name]));
    expect(all).toEqual(metrics.map((m) => m.value));
  });

  it('keeps lines within the byte budget (Docker cuts stdout lines at 16 KiB)', () => {
    const histogram = new ValueHistogram();
    for (let i = 0; i < 100; i++) histogram.add(1.1 ** i * 1.0123456789);
    const [part] = histogram.parts();
    const metrics: EmfMetric[] = Array.from({ length: 40 }, (_, i) => ({
      name: `Latency${i}`,
      unit: 'Milliseconds',
      value: part!,
    }));
    const lines = emfLines({ dimensions, metrics }, options);
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) {
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(16_000);
      parseEmf(line);
    }
    expect(lines.reduce((n, line) => n + parseEmf(line)._aws.CloudWatchMetrics[0]!.Metrics.length, 0)).toBe(
      40,
    );
  });

  it('puts the datapoints of one split distribution on separate lines', () => {
    const histogram = new ValueHistogram();
    for (let i = 0; i < 150; i++) histogram.add(1.1 ** i * 1.05);
    const metrics: EmfMetric[] = histogram
      .parts()
      .map((part) => ({ name: 'RequestLatency', unit: 'Milliseconds', value: part }));
    metrics.push({ name: 'Requests', unit: 'Count', value: 150 });
    const documents = emfLines({ dimensions, metrics }, options).map((line) => parseEmf(line));
    expect(documents).toHaveLength(2);
    expect(documents.reduce((n, d) => n + (d.RequestLatency as { Count: number }).Count, 0)).toBe(150);
  });

  it('writes a high-resolution metric with its StorageResolution', () => {
    const [line] = emfLines(
      { dimensions: {}, metrics: [{ name: 'Queue', unit: 'None', value: 3, storageResolution: 1 }] },
      options,
    );
    expect(parseEmf(line!)._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'NotesApi',
      Dimensions: [[]],
      Metrics: [{ Name: 'Queue', Unit: 'None', StorageResolution: 1 }],
    });
  });

  it('refuses more than 30 dimensions', () => {
    const many = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`D${i}`, 'x']));
    expect(() => emfLines({ dimensions: many, metrics: [] }, options)).toThrow(InvalidArgumentError);
    expect(() => emfLines({ dimensions: many, metrics: [] }, options)).toThrow(/at most 30 dimensions/);
  });
});
