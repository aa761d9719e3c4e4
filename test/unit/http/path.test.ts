import { describe, expect, it } from 'vitest';
import { originForm, originTarget, pathWithoutQuery, requestPath } from '../../../src/http/path.js';

describe('request targets in absolute form (RFC 9112 §3.2.2)', () => {
  it.each([
    ['http://localhost/hello?x=1', '/hello?x=1', '/hello'],
    ['https://user@example.com:8443/a/b', '/a/b', '/a/b'],
    ['HTTP://EXAMPLE.COM/Up', '/Up', '/Up'],
    ['http://localhost', '/', '/'],
    ['http://localhost?x=1', '/?x=1', '/'],
    ['http://localhost/a?next=http://b/c', '/a?next=http://b/c', '/a'],
  ])('%s is %s in origin form, path %s', (target, origin, path) => {
    expect(originForm(target)).toBe(origin);
    expect(originTarget(target)).toBe(origin);
    expect(requestPath(target)).toBe(path);
  });

  it('leaves the origin form, the asterisk form and anything else as they are', () => {
    expect(originTarget('/http://x/y?z')).toBe('/http://x/y?z');
    expect(requestPath('/a?http://x/y')).toBe('/a');
    expect(originForm('*')).toBe('*');
    expect(requestPath('*')).toBe('*');
    expect(originForm('localhost:443')).toBe('localhost:443');
    expect(originTarget(undefined)).toBe('/');
    expect(requestPath(undefined)).toBe('/');
  });

  it("keeps a client's URL whole but its query (pathWithoutQuery: an axios error's config.url)", () => {
    expect(pathWithoutQuery('https://api.example.com/v1/items?token=x')).toBe(
      'https://api.example.com/v1/items',
    );
  });
});
