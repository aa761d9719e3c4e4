import { readdir, readFile, readlink } from 'node:fs/promises';

/** A TCP socket in the LISTEN state. */
export interface ListeningSocket {
  /** Local address: `0.0.0.0`, `::`, `127.0.0.1`, `::1`, `::ffff:127.0.0.1`, … */
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** Where a listening socket accepts connections from. */
export type Binding = 'all' | 'loopback' | 'address';

const listenState = '0A';

function decodeIpv4(hex: string): string {
  // The kernel prints the address as a native-endian 32-bit word: little-endian on x86 and arm64.
  const bytes = [hex.slice(6, 8), hex.slice(4, 6), hex.slice(2, 4), hex.slice(0, 2)];
  return bytes.map((b) => Number.parseInt(b, 16)).join('.');
}

function decodeIpv6(hex: string): string {
  const bytes: number[] = [];
  for (let word = 0; word < 4; word += 1) {
    const chunk = hex.slice(word * 8, word * 8 + 8);
    for (let i = 3; i >= 0; i -= 1) bytes.push(Number.parseInt(chunk.slice(i * 2, i * 2 + 2), 16));
  }
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  // The WHATWG URL parser writes the canonical compressed form (`::`, `::1`, `fd00::2`).
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/**
 * Parses the text of `/proc/net/tcp` (family 4) or `/proc/net/tcp6` (family 6) into its listening
 * sockets, keyed by socket inode.
 *
 * @example
 * ```ts
 * parseProcNetTcp(await readFile('/proc/net/tcp', 'utf8'), 4); // Map { 566 => { address: '0.0.0.0', port: 2024, family: 4 } }
 * ```
 */
export function parseProcNetTcp(text: string, family: 4 | 6): Map<number, ListeningSocket> {
  const sockets = new Map<number, ListeningSocket>();
  for (const line of text.split('\n').slice(1)) {
    const columns = line.trim().split(/\s+/);
    const [, local, , state] = columns;
    const inode = Number(columns[9]);
    if (local === undefined || state !== listenState || !Number.isInteger(inode)) continue;
    const [addressHex, portHex] = local.split(':');
    if (addressHex === undefined || portHex === undefined) continue;
    const address = family === 4 ? decodeIpv4(addressHex) : decodeIpv6(addressHex);
    sockets.set(inode, { address, port: Number.parseInt(portHex, 16), family });
  }
  return sockets;
}

/**
 * What a listening address accepts: `all` interfaces (`0.0.0.0`, `::`), `loopback` only (`127.x`,
 * `::1`, their IPv4-mapped form), or one `address`.
 */
export function bindingOf(address: string): Binding {
  if (address === '0.0.0.0' || address === '::') return 'all';
  if (address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.')) return 'loopback';
  return 'address';
}

async function groupMembers(pgid: number): Promise<number[]> {
  const members: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces and parentheses): state, ppid, pgrp, …
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) members.push(Number(entry));
    } catch {
      // The process ended while the list was read.
    }
  }
  return members;
}

async function socketInodes(pid: number): Promise<number[]> {
  const inodes: number[] = [];
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`));
      if (match?.[1] !== undefined) inodes.push(Number(match[1]));
    } catch {
      // Closed while read.
    }
  }
  return inodes;
}

/**
 * The TCP sockets listened on by any process of the process group `pgid` (the app and whatever it
 * started), from `/proc`.
 *
 * @returns `undefined` where `/proc/net/tcp` cannot be read (not Linux): the checker then relies on
 * connection attempts alone.
 */
export async function listeningSocketsOfGroup(pgid: number): Promise<ListeningSocket[] | undefined> {
  let v4: string;
  let v6 = '';
  try {
    v4 = await readFile('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  try {
    v6 = await readFile('/proc/net/tcp6', 'utf8');
  } catch {
    // A kernel without IPv6.
  }
  const all = new Map([...parseProcNetTcp(v4, 4), ...parseProcNetTcp(v6, 6)]);
  const found: ListeningSocket[] = [];
  const seen = new Set<string>();
  for (const pid of await groupMembers(pgid)) {
    for (const inode of await socketInodes(pid)) {
      const socket = all.get(inode);
      const key = socket === undefined ? '' : `${socket.address}|${socket.port}`;
      if (socket !== undefined && !seen.has(key)) {
        seen.add(key);
        found.push(socket);
      }
    }
  }
  return found;
}
