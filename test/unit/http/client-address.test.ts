import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../../src/http/path.js';

const peer = '10.0.0.9';

describe('clientAddress', () => {
  it('takes the entry the proxy in front appended, not one the caller chose', () => {
    expect(clientAddress('203.0.113.9', peer, 1)).toBe('203.0.113.9');
    // A caller that sends its own header only adds entries before the proxy's.
    expect(clientAddress('1.2.3.4, 203.0.113.9', peer, 1)).toBe('203.0.113.9');
    expect(clientAddress(' 1.2.3.4 ,203.0.113.9 ', peer, 1)).toBe('203.0.113.9');
  });

  it('counts back one entry per trusted proxy (a CDN in front of a load balancer: 2)', () => {
    expect(clientAddress('1.2.3.4, 203.0.113.9, 130.176.0.1', peer, 2)).toBe('203.0.113.9');
    expect(clientAddress('1.2.3.4, 203.0.113.9, 130.176.0.1', peer, 3)).toBe('1.2.3.4');
    // Fewer entries than proxies: the farthest one there is.
    expect(clientAddress('203.0.113.9', peer, 3)).toBe('203.0.113.9');
  });

  it('falls back to the peer without a header, with an empty entry, or with no proxy trusted', () => {
    expect(clientAddress(undefined, peer, 1)).toBe(peer);
    expect(clientAddress('203.0.113.9, ', peer, 1)).toBe(peer);
    expect(clientAddress('', peer, 1)).toBe(peer);
    expect(clientAddress('203.0.113.9', peer, 0)).toBe(peer);
    expect(clientAddress(undefined, undefined, 1)).toBeUndefined();
  });
});
