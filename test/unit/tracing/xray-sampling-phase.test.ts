import http from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/logging/logger.js';
import { DaemonStatus } from '../../../src/tracing/xray/daemon-status.js';
import { startSampler } from '../../../src/tracing/xray/sampling.js';
import type { SdkInternals, SdkPoller } from '../../../src/tracing/xray/sdk-internals.js';
import { captureLogs } from '../../support/log-capture.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** The SDK's sampler as far as its pollers go: each start is recorded with the clock's time. */
function fakeSdk() {
  const starts: string[] = [];
  const poller = (name: string, intervalMs: number): SdkPoller => ({
    poller: undefined,
    start() {
      starts.push(`${name} at ${Date.now()}`);
      clearInterval(this.poller);
      this.poller = setInterval(() => starts.push(`${name} polled at ${Date.now()}`), intervalMs);
    },
  });
  const defaultSampler = {
    localSampler: { setLocalRules() {}, shouldSample: () => false },
    rulePoller: poller('rules', 300_000),
    targetPoller: poller('targets', 10_000),
    started: false,
    shouldSample: () => false,
    start() {
      this.started = true;
      this.rulePoller.start();
      this.targetPoller.start();
    },
  };
  const internals: SdkInternals = {
    awsAttributes: class {} as unknown as SdkInternals['awsAttributes'],
    defaultSampler,
    serviceConnector: { httpClient: { request: http.request } },
    daemonConfig: { udp_ip: '127.0.0.1', udp_port: 2000, tcp_ip: '127.0.0.1', tcp_port: 2000 },
  };
  return { internals, starts };
}

describe('the X-Ray SDK sampler’s pollers', () => {
  it('poll on a phase of each instance’s own, not on the phase of its start (instances started together)', () => {
    vi.useFakeTimers({ now: 0 });
    vi.spyOn(Math, 'random').mockReturnValue(0.3);
    const { internals, starts } = fakeSdk();
    const status = new DaemonStatus(createLogger({ service: 't', destination: captureLogs() }), 'd', true);
    const address = { udp: { host: '127.0.0.1', port: 2000 }, tcp: { host: '127.0.0.1', port: 2000 } };
    const sampler = startSampler(
      internals,
      { sampling: 'centralized', samplingRules: undefined },
      address,
      status,
    );
    try {
      expect(starts).toEqual(['rules at 0', 'targets at 0']); // the rules fetched at once
      vi.advanceTimersByTime(2_999);
      expect(starts).toHaveLength(2); // the SDK's own 10 s phase is gone
      vi.advanceTimersByTime(1);
      expect(starts.at(-1)).toBe('targets at 3000'); // 0.3 of 10 s
      vi.advanceTimersByTime(10_000);
      expect(starts.at(-1)).toBe('targets polled at 13000');
      vi.advanceTimersByTime(90_000 - 13_000);
      expect(starts).toContain('rules at 90000'); // 0.3 of 5 minutes
    } finally {
      sampler.stop();
    }
    const before = starts.length;
    vi.advanceTimersByTime(600_000);
    expect(starts).toHaveLength(before); // stopped: nothing polls
  });
});
