import { describe, expect, it } from 'vitest';
import { serializeRequest } from '../../../src/logging/serializers.js';

describe('serializeRequest', () => {
  it('writes the URL the request came with, not the part a mounted Express router sees (its originalUrl)', () => {
    // As Express hands it to a router mounted at /api: url rewritten, originalUrl kept.
    const mounted = {
      method: 'GET',
      url: '/notes/7?x=1',
      originalUrl: '/api/notes/7?x=1',
      headers: { host: 'h' },
    };
    expect(serializeRequest(mounted)).toMatchObject({ method: 'GET', url: '/api/notes/7', host: 'h' });
    expect(serializeRequest({ method: 'GET', url: '/plain?q=1' })).toMatchObject({ url: '/plain' });
    expect(serializeRequest({ method: 'GET', url: '/x', originalUrl: 42 })).toMatchObject({ url: '/x' });
  });
});
