import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { pickLocalAddress } from '../../../src/cli/local-address.js';

function info(address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo {
  const base = { address, netmask: '', mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv4' ? { ...base, family } : { ...base, family, scopeid: 0 };
}

describe('pickLocalAddress', () => {
  it('prefers a non-loopback IPv4 address', () => {
    expect(
      pickLocalAddress({
        lo: [info('127.0.0.1', 'IPv4', true), info('::1', 'IPv6', true)],
        eth0: [info('fd00::2', 'IPv6'), info('192.0.2.2', 'IPv4')],
      }),
    ).toEqual({ address: '192.0.2.2', family: 4, interfaceName: 'eth0' });
  });

  it('falls back to an IPv6 address that is not link-local', () => {
    expect(
      pickLocalAddress({
        lo: [info('127.0.0.1', 'IPv4', true)],
        eth0: [info('fe80::fc:ff:fe00:1', 'IPv6'), info('fd00::2', 'IPv6')],
      }),
    ).toEqual({ address: 'fd00::2', family: 6, interfaceName: 'eth0' });
  });

  it('returns undefined on a machine with loopback only', () => {
    expect(
      pickLocalAddress({ lo: [info('127.0.0.1', 'IPv4', true), info('::1', 'IPv6', true)] }),
    ).toBeUndefined();
    expect(pickLocalAddress({ eth0: [info('fe80::1', 'IPv6')] })).toBeUndefined();
  });
});
