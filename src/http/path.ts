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
  return address?.startsWith('::ffff:') === true ? address.slice(7) : address;
}
