import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { ConfigurationError } from '../../../src/errors.js';
import { requestMatcher } from '../../../src/http/request-match.js';

const req = (url: string) => ({ url }) as IncomingMessage;

function refusal(value: unknown): ConfigurationError {
  try {
    loadConfig({ env: {}, quietRequests: value as never });
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('quietRequests paths', () => {
  const quiet = requestMatcher(['/metrics', '/internal/*', '/favicon.ico'], 'quietRequests', () => {
    throw new Error('not called');
  });

  it.each([
    ['/metrics', true],
    ['/metrics?format=prometheus', true],
    ['/favicon.ico', true],
    ['/internal', true],
    ['/internal/', true],
    ['/internal/jobs/7?x=1', true],
    ['http://example.com/metrics?x=1', true],
    ['http://example.com', false],
    ['/internal/../admin.html', false],
    ['/internal/%2E%2e/admin.html', false],
    ['/internal//x', false],
    ['/internal/./x', false],
    ['/metrics/', false],
    ['/metricsx', false],
    ['/internalx', false],
    ['/notes', false],
    ['/', false],
  ])('%s → %s', (url, expected) => {
    expect(quiet(req(url))).toBe(expected);
  });

  it('/* makes every request quiet', () => {
    const all = requestMatcher(['/*'], 'quietRequests', () => {});
    expect([all(req('/')), all(req('/a/b'))]).toEqual([true, true]);
  });
});

describe('quietRequests function', () => {
  it('is asked per request; only true is quiet; a throw is not quiet, and told once', () => {
    const told: unknown[] = [];
    const quiet = requestMatcher(
      (r) => {
        if (r.url === '/boom') throw new Error('boom');
        return (r.url === '/yes' ? true : r.url === '/truthy' ? 1 : false) as boolean;
      },
      'quietRequests',
      (error) => told.push(error),
    );
    expect([quiet(req('/yes')), quiet(req('/truthy')), quiet(req('/no'))]).toEqual([true, false, false]);
    expect([quiet(req('/boom')), quiet(req('/boom'))]).toEqual([false, false]);
    expect(told).toHaveLength(1);
    expect((told[0] as Error).message).toBe('boom');
  });

  it('counts a promise as not quiet, and says so once', () => {
    const told: unknown[] = [];
    const quiet = requestMatcher((() => Promise.resolve(true)) as never, 'quietRequests', (error) =>
      told.push(error),
    );
    expect([quiet(req('/a')), quiet(req('/b'))]).toEqual([false, false]);
    expect(told).toHaveLength(1);
    expect((told[0] as Error).message).toMatch(/returned a promise/);
  });
});

describe('quietRequests option', () => {
  it('is validated and kept as given', () => {
    const paths = ['/metrics', '/internal/*'];
    expect(loadConfig({ env: {}, quietRequests: paths }).quietRequests).toEqual(paths);
    const fn = () => true;
    expect(loadConfig({ env: {}, quietRequests: fn }).quietRequests).toBe(fn);
    expect(loadConfig({ env: {} }).quietRequests).toBeUndefined();
  });

  it.each([
    ['/metrics', 'quietRequests', /received "\/metrics"; expected an array of at most 100 paths/],
    [['metrics'], 'quietRequests[0]', /received "metrics"/],
    [['/ok', '/a?b=1'], 'quietRequests[1]', /received "\/a\?b=1"/],
    [['/a b'], 'quietRequests[0]', /received "\/a b"/],
    [['/café'], 'quietRequests[0]', /received "\/café"; .*visible ASCII, percent-encoded/],
    [['/a*'], 'quietRequests[0]', /received "\/a\*"/],
    [['/a/*/b'], 'quietRequests[0]', /received "\/a\/\*\/b"/],
    [[42], 'quietRequests[0]', /received 42/],
    [Array.from({ length: 101 }, (_, i) => `/p${i}`), 'quietRequests', /at most 100 paths/],
  ])('refuses %j, naming %s', (value, field, message) => {
    const error = refusal(value);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });
});
