import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emfProblems, parseEmf } from '../../support/emf.js';

// The validator the other metrics tests rely on, checked against hand-written documents.
const now = Date.UTC(2026, 10, 26, 12);

function document(overrides: Record<string, unknown> = {}, directive: Record<string, unknown> = {}): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: 'NotesApi',
          Dimensions: [['Service']],
          Metrics: [{ Name: 'Requests', Unit: 'Count' }],
          ...directive,
        },
      ],
    },
    Service: 'notes',
    Requests: 3,
    ...overrides,
  });
}

describe('the EMF validator of the tests', () => {
  it('accepts the specification example and a value/count distribution', () => {
    expect(emfProblems(document(), now)).toEqual([]);
    const distribution = { Values: [1, 2.5], Counts: [3, 1], Max: 2.6, Min: 0.9, Count: 4, Sum: 5.6 };
    const line = document(
      { Latency: distribution },
      {
        Metrics: [
          { Name: 'Requests', Unit: 'Count' },
          { Name: 'Latency', Unit: 'Milliseconds', StorageResolution: 60 },
        ],
      },
    );
    expect(parseEmf(line, now).Latency).toEqual(distribution);
  });

  it.each([
    ['not JSON', '{"_aws":', /not JSON/],
    ['no _aws', JSON.stringify({ Requests: 1 }), /lacks the _aws/],
    [
      'a timestamp in seconds',
      document({ _aws: { Timestamp: now / 1000, CloudWatchMetrics: [] } }),
      /Timestamp/,
    ],
    [
      'a timestamp 15 days old',
      JSON.stringify({
        ...JSON.parse(document()),
        _aws: { ...JSON.parse(document())._aws, Timestamp: now - 15 * 86_400_000 },
      }),
      /last 14 days/,
    ],
    ['a reserved namespace', document({}, { Namespace: 'AWS/AppRunner' }), /Namespace/],
    [
      'an unknown unit',
      document({}, { Metrics: [{ Name: 'Requests', Unit: 'Requests' }] }),
      /not a CloudWatch unit/,
    ],
    [
      'a lower-case unit',
      document({}, { Metrics: [{ Name: 'Requests', Unit: 'milliseconds' }] }),
      /not a CloudWatch unit/,
    ],
    [
      'a storage resolution of 5',
      document({}, { Metrics: [{ Name: 'Requests', StorageResolution: 5 }] }),
      /StorageResolution/,
    ],
    ['a missing metric member', document({ Requests: undefined }), /no target member/],
    ['a missing dimension member', document({ Service: undefined }), /no string target/],
    ['a numeric dimension value', document({ Service: 7 }), /no string target/],
    [
      '31 dimensions',
      document(Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`D${i}`, 'x'])), {
        Dimensions: [Array.from({ length: 31 }, (_, i) => `D${i}`)],
      }),
      /at most 30/,
    ],
    [
      '101 metrics',
      document(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`M${i}`, 1])), {
        Metrics: Array.from({ length: 101 }, (_, i) => ({ Name: `M${i}` })),
      }),
      /at most 100/,
    ],
    ['101 values', document({ Requests: Array.from({ length: 101 }, () => 1) }), /1 to 100/],
    ['a string value', document({ Requests: '3' }), /not a finite number/],
    ['a value beyond 2^360', document({ Requests: 2 ** 361 }), /range/],
    [
      'a metric defined twice',
      document({}, { Metrics: [{ Name: 'Requests' }, { Name: 'Requests' }] }),
      /defined twice/,
    ],
    [
      'a metric that is also a dimension',
      document({}, { Metrics: [{ Name: 'Service' }] }),
      /both a dimension/,
    ],
    [
      'counts that do not add up',
      document({ Requests: { Values: [1], Counts: [2], Max: 1, Min: 1, Count: 3, Sum: 3 } }),
      /differs from the sum of Counts/,
    ],
    [
      'an impossible sum',
      document({ Requests: { Values: [1, 2], Counts: [1, 1], Max: 2, Min: 1, Count: 2, Sum: 10 } }),
      /impossible/,
    ],
    [
      'a value outside [Min, Max]',
      document({ Requests: { Values: [1, 5], Counts: [1, 1], Max: 2, Min: 1, Count: 2, Sum: 3 } }),
      /outside \[Min, Max\]/,
    ],
    ['an extra directive member', document({}, { Extra: true }), /does not define/],
  ])('rejects %s', (_name, line, problem) => {
    const problems = emfProblems(line, now);
    expect(problems.join('\n')).toMatch(problem);
    expect(() => parseEmf(line, now)).toThrow(/invalid EMF line/);
  });
});

describe('the metrics guide', () => {
  it('shows a valid EMF line', () => {
    const section = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');
    const line = /```json\n(\{"_aws".*\})\n```/.exec(section)?.[1];
    expect(line).toBeDefined();
    const timestamp = (JSON.parse(line!) as { _aws: { Timestamp: number } })._aws.Timestamp;
    expect(emfProblems(line!, timestamp)).toEqual([]);
  });
});
