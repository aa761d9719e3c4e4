import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { rulesLifetimeMs, SamplingPollStatus } from '../../../src/tracing/otel/sampling-poll-status.js';
import { captureLogs } from '../../support/log-capture.js';

const endpoint = 'http://127.0.0.1:2000';
const throttled = { statusCode: 429, detail: '{"__type":"ThrottledException","message":"Rate exceeded"}' };
const start = Date.parse('2026-03-02T10:00:00.000Z');

function setUp() {
  const logs = captureLogs();
  let now = start;
  const status = new SamplingPollStatus(pino({ level: 'info' }, logs), endpoint, () => now);
  return {
    logs,
    status,
    later(ms: number) {
      now += ms;
    },
    lines: () => logs.lines.map((l) => [l.level === 40 ? 'warn' : 'info', l.msg]),
  };
}

describe('SamplingPollStatus', () => {
  it('warns once when polls begin to be refused after the rules were read, and says when they answer again', () => {
    const { logs, status, later, lines } = setUp();
    status.answered('GetSamplingRules');
    status.answered('SamplingTargets');
    later(10_000);

    for (let i = 0; i < 5; i++) status.failed('SamplingTargets', throttled);
    status.failed('GetSamplingRules', throttled);
    status.answered('GetSamplingRules');
    expect(lines()).toHaveLength(1);
    status.answered('SamplingTargets');

    expect(lines()).toEqual([
      [
        'warn',
        "the X-Ray sampling endpoint http://127.0.0.1:2000 refuses SamplingTargets (HTTP 429): while its polls fail, the reservoir quotas X-Ray hands this instance are not renewed (each rule keeps its fixed rate), and the rules read last, at 2026-03-02T10:00:00.000Z, apply until 2026-03-02T11:00:00.000Z at the latest, then X-Ray's default rule, 1 trace per second then 5 % (logged once until it answers). The X-Ray API throttles the calls of every instance of the account and region together.",
      ],
      ['info', 'the X-Ray sampling endpoint http://127.0.0.1:2000 answers again'],
    ]);
    expect(logs.lines[0]!.tracing).toEqual({
      samplingRules: endpoint,
      poll: 'SamplingTargets',
      statusCode: 429,
      detail: throttled.detail,
    });
    expect(logs.lines[1]!.tracing).toEqual({ samplingRules: endpoint, failedPolls: 6 });
  });

  it('warns once more when the rules read last grow an hour old during the refusals', () => {
    const { logs, status, later, lines } = setUp();
    status.answered('GetSamplingRules');
    status.failed('GetSamplingRules', throttled);
    later(rulesLifetimeMs - 1);
    status.failed('SamplingTargets', throttled);
    expect(lines()).toHaveLength(1);

    later(1);
    for (let i = 0; i < 3; i++) status.failed('SamplingTargets', throttled);

    expect(lines()).toHaveLength(2);
    expect(logs.lines[1]).toMatchObject({
      level: 40,
      tracing: { samplingRules: endpoint, rulesReadAt: '2026-03-02T10:00:00.000Z' },
      msg: expect.stringMatching(
        /read at 2026-03-02T10:00:00\.000Z are an hour old, and http:\/\/127\.0\.0\.1:2000 still fails: X-Ray's default rule, 1 trace per second then 5 %, applies until it answers$/,
      ),
    });
  });

  it('names the error and the fix when the endpoint does not answer before any rule was read', () => {
    const { logs, status } = setUp();
    status.failed('GetSamplingRules', { error: 'connect ECONNREFUSED 127.0.0.1:2000' });
    status.failed('GetSamplingRules', { error: 'connect ECONNREFUSED 127.0.0.1:2000' });
    expect(logs.lines).toHaveLength(1);
    expect(logs.lines[0]).toMatchObject({
      tracing: {
        samplingRules: endpoint,
        poll: 'GetSamplingRules',
        error: 'connect ECONNREFUSED 127.0.0.1:2000',
      },
      msg: "the X-Ray sampling endpoint http://127.0.0.1:2000 does not answer GetSamplingRules (connect ECONNREFUSED 127.0.0.1:2000): X-Ray's default rule, 1 trace per second then 5 %, applies until the rules can be read (logged once until it answers). Run the X-Ray daemon or the ADOT collector's awsproxy extension there, or set OTEL_TRACES_SAMPLER_ARG=endpoint=<its URL>.",
    });
  });

  it('tells access denied from throttling', () => {
    const { logs, status } = setUp();
    status.failed('GetSamplingRules', { statusCode: 400, detail: '{"__type":"AccessDeniedException"}' });
    expect(logs.lines[0]!.msg).toMatch(
      /refuses GetSamplingRules \(HTTP 400\): .* Give the instance role xray:GetSamplingRules and xray:GetSamplingTargets\.$/,
    );
  });
});

describe('SamplingPollStatus, an endpoint that flaps', () => {
  it('warns of one streak in ten minutes, and of its end; the next warning counts the streaks between', () => {
    const { logs, status, later, lines } = setUp();
    status.answered('GetSamplingRules');
    // One poll in three refused, every 10 s, for an hour.
    for (let poll = 1; poll <= 360; poll++) {
      later(10_000);
      if (poll % 3 === 0) status.failed('SamplingTargets', throttled);
      else status.answered('SamplingTargets');
    }
    // Six warnings (one in each ten minutes) and the ends of those streaks: not 240 lines.
    expect(lines().filter(([level]) => level === 'warn')).toHaveLength(6);
    expect(lines().filter(([level]) => level === 'info')).toHaveLength(6);
    expect(logs.lines[2]).toMatchObject({ tracing: { quietStreaks: 19 } });
  });
});

describe('SamplingPollStatus, an outage soon after a short one', () => {
  it('is warned of once it outlasts the ten minutes, though it began inside them', () => {
    const { status, later, lines } = setUp();
    status.answered('GetSamplingRules');
    later(60_000);
    status.failed('SamplingTargets', throttled); // warned
    later(10_000);
    status.answered('SamplingTargets'); // its end said
    later(50_000);
    // Every poll refused from 2 minutes on, for 48 minutes.
    for (let t = 0; t < 48 * 60_000; t += 10_000) {
      status.failed('SamplingTargets', { error: 'connect ECONNREFUSED 127.0.0.1:2000' });
      later(10_000);
    }
    const warnings = lines().filter(([level]) => level === 'warn');
    expect(warnings).toHaveLength(2);
    expect(warnings[1]?.[1]).toContain('does not answer SamplingTargets (connect ECONNREFUSED');
  });
});
