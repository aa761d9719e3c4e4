import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/index.js';
import { OversizeReport, oversizeWarnIntervalMs } from '../../../src/tracing/xray/oversize-report.js';
import { captureLogs, type LogCapture } from '../../support/log-capture.js';

const traceId = '1-5759e988-bd862e3fe1be46a994272793';
let logs: LogCapture;
let report: OversizeReport;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  logs = captureLogs();
  report = new OversizeReport(createLogger({ service: 'test', destination: logs }), '127.0.0.1:2000', 65_507);
});

afterEach(() => {
  report.close();
  vi.useRealTimers();
});

const oversize = () => logs.lines.map((line) => (line.tracing as { oversize: unknown }).oversize);

describe('OversizeReport', () => {
  it('warns at once about the first, then at most once a minute, with the counts since the last line', () => {
    report.dropped(82_104, traceId);
    expect(logs.lines).toHaveLength(1);
    expect(logs.lines[0]).toMatchObject({
      level: 'warn',
      msg: expect.stringMatching(
        /^tracing: 1 segment larger than a UDP datagram \(65507 bytes\): 0 sent with parts left out .*, 1 dropped\. Keep large values out/,
      ),
      tracing: { daemon: '127.0.0.1:2000' },
    });

    for (let i = 0; i < 5; i++) report.dropped(90_000 + i, traceId);
    report.shrunk(70_000, 'other');
    vi.advanceTimersByTime(oversizeWarnIntervalMs - 1);
    expect(logs.lines).toHaveLength(1);

    vi.advanceTimersByTime(1);
    expect(logs.lines).toHaveLength(2);
    expect(logs.lines[1]!.msg).toMatch(/^tracing: 6 segments larger than a UDP datagram/);
    expect(oversize()).toEqual([
      { shrunk: 0, dropped: 1, largestBytes: 82_104, traceId },
      { shrunk: 1, dropped: 5, largestBytes: 90_004, traceId: 'other' },
    ]);
  });

  it('nothing more while nothing more is too large; the next after a quiet minute at once', () => {
    report.shrunk(70_000, traceId);
    vi.advanceTimersByTime(10 * oversizeWarnIntervalMs);
    expect(logs.lines).toHaveLength(1);
    report.shrunk(71_000, traceId);
    expect(oversize()).toEqual([
      { shrunk: 1, dropped: 0, largestBytes: 70_000, traceId },
      { shrunk: 1, dropped: 0, largestBytes: 71_000, traceId },
    ]);
  });

  it('close writes what it counted since the last line, once', () => {
    report.dropped(80_000, traceId);
    report.dropped(undefined, undefined); // EMSGSIZE: no size known
    report.close();
    report.close();
    expect(oversize()).toEqual([
      { shrunk: 0, dropped: 1, largestBytes: 80_000, traceId },
      { shrunk: 0, dropped: 1, traceId: undefined },
    ]);
  });
});
