import { existsSync, readFileSync } from 'node:fs';

/** One failure mode of issue 13 and the tests that show how the kit behaves under it. */
export interface FailureMode {
  readonly fault: string;
  readonly expected: string;
  /** Test file (from the repository root) → the start of each test's title in it. */
  readonly tests: readonly { readonly file: string; readonly titles: readonly string[] }[];
}

const aws = 'test/integration/secrets/aws.test.ts';
const awsFaults = 'test/faults/aws-endpoint.test.ts';
const database = 'test/integration/health/dependencies.test.ts';
const collector = 'test/integration/tracing/collector-down.test.ts';
const daemon = 'test/integration/tracing/xray-daemon.test.ts';

/** Every failure mode the issue names, with where it is tested. */
const failureModes: readonly FailureMode[] = [
  {
    fault: 'AWS endpoint down at start-up (connection refused)',
    expected:
      'start-up fails within the budget, naming each secret and ECONNREFUSED; the server never listens',
    tests: [
      {
        file: awsFaults,
        titles: [
          'an endpoint that refuses connections fails the start within the budget',
          'bootstrapAppRunner stops before it listens when the endpoint refuses connections',
        ],
      },
    ],
  },
  {
    fault: 'AWS endpoint hanging at start-up',
    expected: 'start-up fails at the budget, with the VPC/NAT hint',
    tests: [
      {
        file: aws,
        titles: [
          'gives up within the start-up budget on a hanging endpoint',
          'bounds a hanging endpoint by the request timeout and attempts',
        ],
      },
    ],
  },
  {
    fault: 'AWS endpoint throttling at start-up',
    expected:
      'a throttled call is retried; throttling on every call fails within the budget after the capped attempts',
    tests: [
      { file: aws, titles: ['retries throttling, within the capped attempts'] },
      {
        file: awsFaults,
        titles: ['an endpoint that throttles every call fails the start after the capped attempts'],
      },
    ],
  },
  {
    fault: 'AWS endpoint down, hanging or throttling during refresh',
    expected:
      'the cached value is served at once, one warning per secret, the new value once the endpoint is back',
    tests: [
      {
        file: awsFaults,
        titles: [
          'an endpoint that goes down: the cached values are served',
          'an endpoint that hangs (Secrets Manager) or throttles (SSM)',
        ],
      },
      { file: aws, titles: ['serves the cached value when a refresh meets a failing endpoint'] },
      {
        file: 'test/unit/secrets/secret-cache.test.ts',
        titles: ['keeps serving the cached value when refreshes fail, backing off, logging once per streak'],
      },
    ],
  },
  {
    fault: 'Database down, hung (SIGSTOP) and back (PostgreSQL, Redis)',
    expected:
      '/readyz turns 503 within one interval and answers within its budget; /healthz stays 200; ready again once back',
    tests: [
      {
        file: database,
        titles: [
          'turns 503 within one interval when the server stops, while liveness stays 200',
          'still answers within its budget, failing, while the server hangs (SIGSTOP), and recovers',
          'passes again once the server is back',
          'passes, fails when stopped (liveness unaffected), and passes again when started',
          'answers within its budget while Redis hangs (SIGSTOP), and recovers',
        ],
      },
    ],
  },
  {
    fault: 'OTLP collector absent, failing or hanging',
    expected:
      'requests unaffected; one warning per outage (gRPC and HTTP), one line when it is back; shutdown bounded',
    tests: [
      {
        file: collector,
        titles: [
          'leaves requests unaffected and is logged once, not per batch',
          'is logged once when it fails and once when it is back',
          'a collector that hangs: requests are answered meanwhile, and the shutdown stays bounded',
        ],
      },
    ],
  },
  {
    fault: 'X-Ray daemon absent',
    expected: 'requests unaffected; one warning per outage, one line when it is back',
    tests: [
      {
        file: daemon,
        titles: [
          'leaves requests unaffected and is logged once, not per segment',
          'drops segments while it is away (one probe every 500 ms), and is logged once when it is back',
          'a host name that does not resolve: requests unaffected, one warning',
        ],
      },
    ],
  },
  {
    fault: 'stdout a slow pipe (reader stalled)',
    expected: 'request latency unchanged while the pipe is full; no line lost, the last one the shutdown’s',
    tests: [
      {
        file: 'test/faults/slow-stdout.test.ts',
        titles: ['leaves request latency as it was, and every line written meanwhile arrives by the exit'],
      },
      {
        file: 'test/integration/logging/slow-stdout.test.ts',
        titles: ['loses no line of 20,000 when the reader pauses'],
      },
    ],
  },
  {
    fault: 'A client that sends its headers slowly (slowloris), or opens a socket and sends nothing',
    expected:
      'SIGTERM: the request in flight is served, those sockets closed, the exit within shutdown.timeoutMs',
    tests: [
      {
        file: 'test/faults/slow-clients.test.ts',
        titles: [
          'closes a silent socket and a slowloris socket after the idle grace',
          'cuts them at the deadline when the idle grace is longer than shutdown.timeoutMs',
        ],
      },
    ],
  },
];

/** Titles listed in {@link failureModes} that their file does not contain (or files that do not exist). */
function missingTests(root: string): string[] {
  const missing: string[] = [];
  for (const mode of failureModes) {
    for (const { file, titles } of mode.tests) {
      const path = `${root}/${file}`;
      if (!existsSync(path)) {
        missing.push(file);
        continue;
      }
      const text = readFileSync(path, 'utf8');
      for (const title of titles) if (!text.includes(title)) missing.push(`${file}: "${title}"`);
    }
  }
  return missing;
}

/** The "Reliability" section of BENCHMARKS.md: the table of {@link failureModes}, checked against the tests. */
export function reliabilityMarkdown(root: string): string[] {
  const missing = missingTests(root);
  const out = [
    '## Reliability: each failure mode and its test',
    '',
    'Fault tests run with `npm run test:faults` (test/faults, also part of `npm test`); the others are in the',
    'integration and unit suites. Every fault is made real: a closed port or a TCP gate taken down, an',
    'endpoint that hangs or throttles, a database stopped or frozen with SIGSTOP, a pipe nobody reads, raw',
    'sockets, a real SIGTERM to a child process.',
    '',
    '| failure mode | what the kit does | tests |',
    '| --- | --- | --- |',
  ];
  for (const mode of failureModes) {
    const tests = mode.tests
      .map(({ file, titles }) => `[${file}](${file}): ${titles.map((t) => `“${t}”`).join('; ')}`)
      .join('<br>');
    out.push(`| ${mode.fault} | ${mode.expected} | ${tests} |`);
  }
  if (missing.length > 0) out.push('', `**Not found when this file was generated:** ${missing.join('; ')}.`);
  const files = [...new Set(failureModes.flatMap((m) => m.tests.map((t) => t.file)))].filter(
    (f) => !f.startsWith('test/faults/'),
  );
  out.push('', 'All of them at once:', '', '```sh', `npx vitest run test/faults ${files.join(' ')}`, '```');
  return out;
}
