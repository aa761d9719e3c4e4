import { isIP } from 'node:net';

/** The path of a request URL, without its query string. */
export function pathWithoutQuery(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * A peer's address as people search for it: dual-stack servers (listening on `::`) report IPv4 peers
 * as `::ffff:a.b.c.d`.
 */
export function peerAddress(address: string | undefined): string | undefined {
  // The first character first: most peers are plain IPv4 or IPv6 addresses.
  return address !== undefined && address.charCodeAt(0) === 0x3a && address.startsWith('::ffff:')
    ? address.slice(7)
    : address;
}

/**
 * The client's address as the proxies in front of the app saw it: the `X-Forwarded-For` entry the
 * farthest of the `trustedProxies` appended (the last entry for 1, the one before it for 2).
 * Entries before it are whatever the caller sent, so a caller cannot choose it. A port after the
 * address (`203.0.113.9:51234`, `[2001:db8::1]:443`) is left out. `undefined` without the header,
 * for an entry that is not an IP address (where no proxy appends, a caller's own text), or with no
 * proxy trusted: the peer's address is the client's.
 */
export function clientAddress(forwardedFor: string | undefined, trustedProxies: number): string | undefined {
  if (forwardedFor === undefined || trustedProxies === 0) return undefined;
  let end = forwardedFor.length;
  for (let hop = 1; hop < trustedProxies; hop++) {
    const comma = forwardedFor.lastIndexOf(',', end - 1);
    if (comma === -1) return trimmedOrUndefined(forwardedFor.slice(0, end));
    end = comma;
  }
  return trimmedOrUndefined(forwardedFor.slice(forwardedFor.lastIndexOf(',', end - 1) + 1, end));
}

/** The IP address of an `X-Forwarded-For` entry, its port left out; `undefined` for anything else. */
function trimmedOrUndefined(text: string): string | undefined {
  const trimmed = text.trim();
  if (isIP(trimmed) !== 0) return trimmed;
  const bracketed = trimmed.charCodeAt(0) === 0x5b /* [ */ ? trimmed.indexOf(']') : -1;
  if (bracketed !== -1) {
    const address = trimmed.slice(1, bracketed);
    return isIP(address) === 6 && portOrNothing(trimmed, bracketed + 1) ? address : undefined;
  }
  const colon = trimmed.indexOf(':');
  if (colon === -1 || !portOrNothing(trimmed, colon)) return undefined;
  const address = trimmed.slice(0, colon);
  return isIP(address) === 4 ? address : undefined;
}

/** Whether `text` from `at` is empty or a port (`:` and 1 to 5 digits). */
function portOrNothing(text: string, at: number): boolean {
  return at === text.length || /^:\d{1,5}$/.test(text.slice(at));
}

/**
 * The first entry of a comma-separated forwarding header (`X-Forwarded-For`, `X-Forwarded-Proto`),
 * trimmed: the hop nearest the client. `undefined` when the header is absent or that entry is empty.
 */
export function firstHop(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const comma = header.indexOf(',');
  const hop = (comma === -1 ? header : header.slice(0, comma)).trim();
  return hop === '' ? undefined : hop;
}
