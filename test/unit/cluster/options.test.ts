import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { type ClusterOptions, clusterDefaults, parseClusterOptions } from '../../../src/cluster/options.js';
import { clusterMessageKey, workerReportOf } from '../../../src/cluster/worker.js';
import { ConfigurationError } from '../../../src/errors.js';
import { thrown } from '../../support/thrown.js';

const configError = (fn: () => unknown) => thrown(fn, ConfigurationError);

const parse = (options: ClusterOptions = {}, env: Record<string, string | undefined> = {}) =>
  parseClusterOptions(options, env);

describe('parseClusterOptions: workers', () => {
  it('forks one worker per vCPU when neither the option nor WEB_CONCURRENCY is set', () => {
    expect(parse().workers).toBe(availableParallelism());
    expect(parse({}, { WEB_CONCURRENCY: ' ' }).workers).toBe(availableParallelism());
  });

  it('reads WEB_CONCURRENCY, and the option wins over it', () => {
    expect(parse({}, { WEB_CONCURRENCY: '3' }).workers).toBe(3);
    expect(parse({}, { WEB_CONCURRENCY: ' 4 ' }).workers).toBe(4);
    expect(parse({ workers: 2 }, { WEB_CONCURRENCY: '3' }).workers).toBe(2);
  });

  it.each(['0', '-1', 'abc', '2.5', '4 workers', '1025'])(
    'refuses WEB_CONCURRENCY=%j, naming the variable, the value and the fix',
    (raw) => {
      const error = configError(() => parse({}, { WEB_CONCURRENCY: raw }));
      expect(error.code).toBe('ARK_CONFIG_INVALID');
      expect(error.field).toBe('WEB_CONCURRENCY');
      expect(error.message).toContain(`received ${JSON.stringify(raw)}`);
      expect(error.message).toContain('an integer from 1 to 1024');
      expect(error.message).toContain('unset it to fork one worker per vCPU');
    },
  );

  it.each([0, -1, 1.5, 1025, '2', Number.NaN])('refuses workers: %j', (workers) => {
    const error = configError(() => parse({ workers: workers as number }));
    expect(error.field).toBe('workers');
    expect(error.message).toMatch(/^Invalid workers: received .+; expected an integer from 1 to 1024\.$/);
  });
});

describe('parseClusterOptions: the stop and the restarts', () => {
  it('has the documented defaults', () => {
    const settings = parse({}, { WEB_CONCURRENCY: '2' });
    expect(settings).toEqual({ workers: 2, timeoutMs: undefined, maxRestarts: 5, restartWindowMs: 60_000 });
    expect(Object.isFrozen(settings)).toBe(true);
    expect(clusterDefaults.workerShutdownTimeoutMs + clusterDefaults.timeoutMarginMs).toBe(22_000);
  });

  it('takes valid values', () => {
    expect(
      parse({ timeoutMs: 25_000, maxRestarts: 0, restartWindowMs: 0 }, { WEB_CONCURRENCY: '1' }),
    ).toEqual({
      workers: 1,
      timeoutMs: 25_000,
      maxRestarts: 0,
      restartWindowMs: 0,
    });
  });

  it.each([
    ['timeoutMs', 0],
    ['timeoutMs', '20000'],
    ['maxRestarts', -1],
    ['maxRestarts', 2.5],
    ['restartWindowMs', -5],
  ])('refuses %s: %j', (field, value) => {
    const error = configError(() => parse({ [field]: value } as ClusterOptions));
    expect(error.field).toBe(field);
    expect(error.message).toContain(`Invalid ${field}: received ${JSON.stringify(value)}`);
  });

  it('refuses an unknown option, a logger that is none and an exit that is no function', () => {
    const unknown = configError(() => parse({ worker: 2 } as ClusterOptions));
    expect(unknown.field).toBe('worker');
    expect(unknown.message).toContain('Accepted options: workers, timeoutMs');
    expect(configError(() => parse({ logger: console as never })).field).toBe('logger');
    expect(configError(() => parse({ exit: true as never })).field).toBe('exit');
    expect(configError(() => parse(null as never)).field).toBe('runCluster options');
  });
});

describe('workerReportOf', () => {
  it("reads a worker's report and leaves the app's own messages alone", () => {
    expect(workerReportOf({ [clusterMessageKey]: { shutdownTimeoutMs: 25_000 } })).toEqual({
      shutdownTimeoutMs: 25_000,
    });
    expect(workerReportOf({ [clusterMessageKey]: { shutdownTimeoutMs: -1 } })).toBeUndefined();
    expect(workerReportOf({ cmd: 'app message' })).toBeUndefined();
    expect(workerReportOf('text')).toBeUndefined();
    expect(workerReportOf(null)).toBeUndefined();
  });
});
