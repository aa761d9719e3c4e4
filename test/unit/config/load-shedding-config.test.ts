import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { ConfigurationError } from '../../../src/errors.js';

const load = (loadShedding: unknown) => loadConfig({ env: {}, loadShedding: loadShedding as never }).config;

describe('loadShedding options', () => {
  it('is off unless given', () => {
    expect(loadConfig({ env: {} }).config.loadShedding).toBeUndefined();
  });

  it('takes one limit and fills the documented defaults', () => {
    expect(load({ maxInFlight: 80 })).toMatchObject({
      loadShedding: { maxInFlight: 80, intervalMs: 500, retryAfterSeconds: 1, readiness: 'off', cors: true },
    });
    expect(load({ maxInFlight: 80, cors: false }).loadShedding!.cors).toBe(false);
  });

  it('takes exempt paths, frozen, or a function as given', () => {
    const paths = load({ maxInFlight: 1, exempt: ['/webhooks/*'] }).loadShedding!.exempt;
    expect(paths).toEqual(['/webhooks/*']);
    expect(Object.isFrozen(paths)).toBe(true);
    const fn = () => true;
    expect(load({ maxInFlight: 1, exempt: fn }).loadShedding!.exempt).toBe(fn);
  });

  it.each([
    [{}, 'loadShedding'],
    [{ maxInFlight: 0 }, 'loadShedding.maxInFlight'],
    [{ maxEventLoopDelayMs: 5 }, 'loadShedding.maxEventLoopDelayMs'],
    [{ maxEventLoopUtilization: 1.5 }, 'loadShedding.maxEventLoopUtilization'],
    [{ maxInFlight: 10, intervalMs: 10 }, 'loadShedding.intervalMs'],
    [{ maxInFlight: 10, readiness: 'maybe' }, 'loadShedding.readiness'],
    [{ maxInFlight: 10, queue: true }, 'loadShedding.queue'],
    [{ maxInFlight: 10, exempt: '/webhooks' }, 'loadShedding.exempt'],
    [{ maxInFlight: 10, exempt: ['/ok', 'webhooks'] }, 'loadShedding.exempt[1]'],
    [{ maxInFlight: 10, cors: 'reflect' }, 'loadShedding.cors'],
  ])('rejects %j naming %s', (options, field) => {
    expect(() => load(options)).toThrow(ConfigurationError);
    try {
      load(options);
    } catch (error) {
      expect((error as ConfigurationError).field).toBe(field);
    }
  });
});
