import { isIP } from 'node:net';

/** `scheme://authority` at the start of a request target in absolute form. */
const origin = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i;

/**
 * A request target in absolute form (`http://host/path?query`, which RFC 9112 §3.2.2 says a server
 * must accept, and which Express, Fastify and Koa route by its path) in origin form: `/path?query`,
 * `/` before a query or for no path at all. Any other target (`*`) as it is. Meant for a target
 * that does not start with `/`: see {@link originTarget}.
 *
 * @example
 * ```ts
 * originForm('http://localhost/hello?x=1'); // '/hello?x=1'
 * ```
 */
export function originForm(url: string): string {
  const found = origin.exec(url);
  if (found === null) return url;
  const rest = url.slice(found[0].length);
  return rest.charCodeAt(0) === 0x2f ? rest : `/${rest}`;
}

/**
 * The request target `url` in origin form, `/` when absent: as it is when it starts with `/`, the
 * common case, which costs one char check; else {@link originForm}.
 */
export function originTarget(url: string | undefined): string {
  if (url === undefined) return '/';
  return url.charCodeAt(0) === 0x2f ? url : originForm(url);
}

/** A URL without its query string (an absent URL is `/`). */
export function pathWithoutQuery(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * The path of a request target, without its query string: of one in absolute form, the path alone
 * (see {@link originForm}); a target that starts with `/`, the common case, costs one char check more
 * than {@link pathWithoutQuery}.
 */
export function requestPath(url: string | undefined): string {
  return pathWithoutQuery(url === undefined || url.charCodeAt(0) === 0x2f ? url : originForm(url));
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
