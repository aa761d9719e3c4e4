import { describe, expect, it } from 'vitest';
import { callTarget } from '../../../src/tracing/instrumentation/call-target.js';

const proxy = { protocol: 'http:', host: '10.0.0.5', port: 3128 };

describe('callTarget', () => {
  it.each([
    ['/items?id=1', { ...proxy, path: '/items' }],
    [undefined, { ...proxy, path: '/' }],
    ['', { ...proxy, path: '/' }],
    // Absolute form, as a forward proxy is sent: the origin behind it.
    [
      'http://api.internal:8080/items?token=x',
      { protocol: 'http:', host: 'api.internal', port: 8080, path: '/items' },
    ],
    [
      'HTTPS://API.example.com/a',
      { protocol: 'https:', host: 'api.example.com', port: undefined, path: '/a' },
    ],
    ['http://[::1]:9000/v6', { protocol: 'http:', host: '::1', port: 9000, path: '/v6' }],
    ['http://api.internal', { protocol: 'http:', host: 'api.internal', port: undefined, path: '/' }],
    // Authority form (CONNECT) and the asterisk: the connection itself, no path.
    ['api.internal:443', { ...proxy, path: '' }],
    ['*', { ...proxy, path: '' }],
    ['http://', { ...proxy, path: '' }],
  ])('%j', (path, expected) => {
    expect(callTarget(proxy, path)).toEqual(expected);
  });
});
