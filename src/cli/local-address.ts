import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';

/** An address of this machine that is not loopback, to test "listens on all interfaces" with. */
export interface LocalAddress {
  readonly address: string;
  readonly family: 4 | 6;
  /** The interface it belongs to (`eth0`). */
  readonly interfaceName: string;
}

/**
 * Picks the machine's own non-loopback address: the first IPv4 one, else the first IPv6 one that is
 * not link-local (those need a scope id). Connecting to it never leaves the machine — the kernel
 * routes a packet to one of its own addresses through the loopback device — yet a server bound to
 * 127.0.0.1 refuses it, exactly as it refuses App Runner's proxy.
 *
 * @returns `undefined` when the machine has no such address (a container without a network): the
 * checker then decides from the sockets the app holds (`/proc/net/tcp`), or cannot decide.
 * @example
 * ```ts
 * pickLocalAddress(); // { address: '10.0.0.5', family: 4, interfaceName: 'eth0' }
 * ```
 */
export function pickLocalAddress(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): LocalAddress | undefined {
  let ipv6: LocalAddress | undefined;
  for (const [interfaceName, infos] of Object.entries(interfaces)) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      if (info.family === 'IPv4') {
        if (info.address.startsWith('127.')) continue;
        return { address: info.address, family: 4, interfaceName };
      }
      if (
        ipv6 === undefined &&
        info.family === 'IPv6' &&
        !/^fe[89ab]/i.test(info.address) &&
        info.address !== '::1'
      ) {
        ipv6 = { address: info.address, family: 6, interfaceName };
      }
    }
  }
  return ipv6;
}
