import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../../src/http/path.js';
import { rawHeaderJoined } from '../../../src/http/raw-headers.js';

describe('clientAddress', () => {
  it('takes the entry the proxy in front appended, not one the caller chose', () => {
    expect(clientAddress('203.0.113.9', 1)).toBe('203.0.113.9');
    // A caller that sends its own header only adds entries before the proxy's.
    expect(clientAddress('1.2.3.4, 203.0.113.9', 1)).toBe('203.0.113.9');
    expect(clientAddress(' 1.2.3.4 ,203.0.113.9 ', 1)).toBe('203.0.113.9');
  });

  it('counts back one entry per trusted proxy (a CDN in front of a load balancer: 2)', () => {
    expect(clientAddress('1.2.3.4, 203.0.113.9, 130.176.0.1', 2)).toBe('203.0.113.9');
    expect(clientAddress('1.2.3.4, 203.0.113.9, 130.176.0.1', 3)).toBe('1.2.3.4');
    // Fewer entries than proxies: the farthest one there is.
    expect(clientAddress('203.0.113.9', 3)).toBe('203.0.113.9');
  });

  it('has none without the header, for an empty entry, or with no proxy trusted (the peer is the client)', () => {
    expect(clientAddress(undefined, 1)).toBeUndefined();
    expect(clientAddress('203.0.113.9, ', 1)).toBeUndefined();
    expect(clientAddress('', 1)).toBeUndefined();
    expect(clientAddress('203.0.113.9', 0)).toBeUndefined();
  });

  it('takes an IP address only, its port left out: where no proxy appends, the caller writes the header', () => {
    expect(clientAddress('2001:db8::1', 1)).toBe('2001:db8::1');
    expect(clientAddress('203.0.113.9:51234', 1)).toBe('203.0.113.9');
    expect(clientAddress('[2001:db8::1]:443', 1)).toBe('2001:db8::1');
    expect(clientAddress('[2001:db8::1]', 1)).toBe('2001:db8::1');
    for (const forged of [
      '"evil\\" x',
      'unknown',
      '203.0.113.9:port',
      '[203.0.113.9]:1',
      '1.2.3.4.5',
      '<script>',
    ])
      expect(clientAddress(forged, 1), forged).toBeUndefined();
  });

  it('reads every X-Forwarded-For line: a proxy that adds its own line puts its entry last', () => {
    const req = {
      rawHeaders: ['X-Forwarded-For', '6.6.6.6', 'Host', 'a', 'x-forwarded-for', '203.0.113.9'],
    } as unknown as IncomingMessage;
    expect(rawHeaderJoined(req, 'x-forwarded-for')).toBe('6.6.6.6, 203.0.113.9');
    expect(clientAddress(rawHeaderJoined(req, 'x-forwarded-for'), 1)).toBe('203.0.113.9');
    expect(rawHeaderJoined(req, 'x-real-ip')).toBeUndefined();
  });
});
