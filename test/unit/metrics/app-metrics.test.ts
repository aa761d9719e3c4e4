import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logging/logger.js';
import { AppMetrics, maxAppSeries } from '../../../src/metrics/app-metrics.js';
import { type EmfGroup, emfLines } from '../../../src/metrics/emf-lines.js';
import type { MetricUnit } from '../../../src/metrics/units.js';
import { type EmfDocument, parseEmf, withDimensions } from '../../support/emf.js';
import { captureLogs } from '../../support/log-capture.js';

const defaults = Object.freeze({ Service: 'notes', Environment: 'test' });

function metrics(enabled = true): AppMetrics {
  return new AppMetrics({ enabled, dimensions: defaults });
}

/** What one flush of `app` writes, validated and parsed. */
function flushed(app: AppMetrics): EmfDocument[] {
  const groups: EmfGroup[] = [];
  app.collect(groups);
  return groups.flatMap((group) =>
    emfLines(group, { namespace: 'NotesApi', timestamp: Date.now() }).map((line) => parseEmf(line)),
  );
}

function argumentError(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).code).toBe('ARK_ARGUMENT_INVALID');
    return error as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('runtime.metrics: aggregation', () => {
  it('sums counts and keeps recorded values as one distribution per name and dimensions', () => {
    const app = metrics();
    for (let i = 0; i < 1_000; i++) {
      app.count('OrdersPlaced');
      app.count('ItemsSold', 3, { Plan: i % 2 === 0 ? 'pro' : 'free' });
      app.record('PaymentLatency', i, 'Milliseconds');
    }
    const documents = flushed(app);
    const plain = withDimensions(documents, { Service: 'notes', Environment: 'test' }).filter(
      (d) => d.Plan === undefined,
    );
    expect(plain).toHaveLength(1);
    expect(plain[0]!.OrdersPlaced).toBe(1_000);
    expect(plain[0]!.PaymentLatency).toMatchObject({ Count: 1_000, Sum: 499_500, Min: 0, Max: 999 });
    expect(withDimensions(documents, { Plan: 'pro' })[0]!.ItemsSold).toBe(1_500);
    expect(withDimensions(documents, { Plan: 'free' })[0]!.ItemsSold).toBe(1_500);
    expect(withDimensions(documents, { Plan: 'pro' })[0]!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([
      ['Service', 'Environment', 'Plan'],
    ]);
  });

  it('starts a new interval after each flush, and writes nothing for an idle one', () => {
    const app = metrics();
    app.count('OrdersPlaced', 2);
    expect(flushed(app)[0]!.OrdersPlaced).toBe(2);
    expect(flushed(app)).toEqual([]);
  });

  it('checks calls but keeps nothing when metrics are off', () => {
    const app = metrics(false);
    app.count('OrdersPlaced');
    expect(flushed(app)).toEqual([]);
    expect(() => app.count('bad\nname')).toThrow(InvalidArgumentError);
  });

  it(`drops datapoints past ${maxAppSeries} name and dimension combinations in one interval`, () => {
    const app = metrics();
    for (let i = 0; i < maxAppSeries + 5; i++) app.count('Signups', 1, { User: `u${i}` });
    expect(flushed(app)).toHaveLength(maxAppSeries);
    app.count('Signups', 1, { User: 'late' });
    expect(flushed(app)).toHaveLength(1);
  });
});

describe('runtime.metrics: values of the data CloudWatch refuses', () => {
  /** Metrics with a logger whose lines the test reads. */
  function logged() {
    const logs = captureLogs();
    const app = new AppMetrics({
      enabled: true,
      dimensions: defaults,
      logger: createLogger({ service: 't', destination: logs }),
    });
    return { app, logs };
  }

  it('drops the datapoint of a count or value out of range, said once per metric: the call does not throw', () => {
    const { app, logs } = logged();
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, 2 ** 361, 1e-200])
      app.record('Size', value, 'Bytes');
    app.record('Size', 10, 'Bytes');
    app.count('Retries', -1);
    app.count('Retries', Number.NaN);
    app.count('Retries', 2);

    const [line] = withDimensions(flushed(app), defaults);
    expect(line!.Size).toMatchObject({ Count: 1, Sum: 10 });
    expect(line!.Retries).toBe(2);
    expect(logs.lines.map((l) => [l.level, l.metrics, l.msg])).toEqual([
      [
        'warn',
        { name: 'Size' },
        expect.stringMatching(
          /^metrics\.record\("Size"\): the value must be .*; received NaN: the datapoint is dropped/,
        ),
      ],
      [
        'warn',
        { name: 'Retries' },
        expect.stringMatching(
          /^metrics\.count\("Retries"\): the value must be a finite number of at least 0; received -1: the datapoint is dropped/,
        ),
      ],
    ]);
  });

  it('still throws for a mistake among the dimensions of a refused value', () => {
    const { app } = logged();
    expect(() => app.count('Retries', Number.NaN, { '': 'x' })).toThrow(InvalidArgumentError);
    expect(() => app.record('Size', Number.NaN, 'Bytes', { Size: 'x' })).toThrow(/the metric's own name/);
  });

  it.each([
    ['empty', ''],
    ['not ASCII', 'Zürich'],
    ['over 1,024 characters', 'x'.repeat(1025)],
  ])(
    'drops the datapoint of a dimension value that is %s, said once per metric and dimension',
    (_, value) => {
      const { app, logs } = logged();
      app.count('Orders', 1, { Tenant: value });
      app.count('Orders', 1, { Tenant: value, Plan: 'pro' });
      app.count('Orders', 1, { Tenant: 'acme' });
      expect(flushed(app).map((d) => [d.Tenant, d.Orders])).toEqual([['acme', 1]]);
      expect(logs.lines).toHaveLength(1);
      expect(logs.lines[0]).toMatchObject({ level: 'warn', metrics: { name: 'Orders' } });
      expect(String(logs.lines[0]!.msg)).toMatch(
        /^metrics\.count\("Orders"\): dimension "Tenant" must be a dimension value/,
      );
    },
  );
});

describe('runtime.metrics: invalid arguments', () => {
  const app = metrics();

  it.each([
    ['', 'an empty name'],
    ['   ', 'a blank name'],
    ['naïve', 'a non-ASCII name'],
    ['tab\there', 'a control character'],
    ['x'.repeat(256), 'a name of 256 characters'],
    ['_aws', 'the EMF metadata member'],
    [42, 'a number'],
  ] as [unknown, string][])('rejects the metric name %j (%s)', (name) => {
    const error = argumentError(() => app.count(name as string));
    expect(error.message).toMatch(
      /metrics\.count\(\): the name must be a metric name of 1 to 255 printable ASCII/,
    );
  });

  it.each(['milliseconds', 'ms', 'Millisecond', 'Requests', '', undefined])('rejects the unit %j', (unit) => {
    const error = argumentError(() => app.record('Latency', 1, unit as MetricUnit));
    expect(error.message).toContain(
      "the unit must be one of CloudWatch's units (Seconds, Microseconds, Milliseconds",
    );
  });

  it('rejects a value that is not a number, a count or record of a string', () => {
    expect(() => app.record('Size', '5' as unknown as number, 'Bytes')).toThrow(/the value must be/);
    expect(() => app.count('Retries', '1' as unknown as number)).toThrow(/a finite number of at least 0/);
  });

  it.each([
    [{ '': 'x' }, /dimension name must be/],
    [{ ':Plan': 'x' }, /not starting with ":"/],
    [{ ['D'.repeat(251)]: 'x' }, /a dimension name of 1 to 250 printable ASCII characters/],
    [{ Plan: 3 }, /dimension "Plan" must be/],
    [['pro'], /dimensions must be an object/],
    [{ Orders: 'x' }, /a dimension cannot have the metric's own name/],
    [
      Object.fromEntries(Array.from({ length: 29 }, (_, i) => [`D${i}`, 'x'])),
      /at most 30 dimensions in all/,
    ],
  ])('rejects the dimensions %j', (dimensions, message) => {
    expect(() => app.count('Orders', 1, dimensions as never)).toThrow(message);
  });

  it.each(['Requests', 'HeapUsed', '5xxStatusResponses'])(
    "rejects a metric named like one of the kit's own: %s",
    (name) => {
      expect(() => app.count(name)).toThrow(`"${name}" is one of the kit's own metrics`);
      expect(() => app.record(name, 1, 'Bytes')).toThrow(InvalidArgumentError);
    },
  );

  it('rejects a metric named like a default dimension', () => {
    expect(() => app.count('Service')).toThrow(/"Service" is a default dimension/);
  });

  it('keeps one kind and unit per name', () => {
    app.count('Exports');
    expect(() => app.record('Exports', 1, 'Count')).toThrow(/already used with count\(\)/);
    app.record('Upload', 10, 'Bytes');
    expect(() => app.record('Upload', 10, 'Kilobytes')).toThrow(/already used with record\(\) in Bytes/);
    expect(() => app.count('Upload')).toThrow(/already used with record\(\) in Bytes/);
  });
});
