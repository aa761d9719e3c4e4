import { pathWithoutQuery } from '../../http/path.js';

/** Where an outgoing HTTP request goes: what its span and subsegment name. */
export interface CallTarget {
  readonly protocol: string;
  readonly host: string;
  readonly port: number | undefined;
  /** Without the query string (it may carry secrets); `''` for a request to the connection itself. */
  readonly path: string;
}

/** A host as a URL writes it, an IPv6 address without its brackets (`[::1]` → `::1`). */
export function withoutBrackets(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

/**
 * The target of an outgoing request sent to `connection` with request target `path`. Origin form
 * (`/items?id=1`) goes to the connection. Absolute form (`http://api.internal:8080/items`), which
 * a forward proxy is sent, names the origin behind the proxy, which is the server the semantic
 * conventions ask for. Authority form (`CONNECT host:443`) and `*` are requests to the connection
 * itself (the proxy), given no path.
 */
export function callTarget(connection: Omit<CallTarget, 'path'>, path: string | undefined): CallTarget {
  if (path === undefined || path === '') return { ...connection, path: '/' };
  const first = path.charCodeAt(0);
  if (first === 0x2f) return { ...connection, path: pathWithoutQuery(path) };
  if (/^https?:\/\//i.test(path)) {
    try {
      const url = new URL(path);
      return {
        protocol: url.protocol,
        host: withoutBrackets(url.hostname),
        port: url.port === '' ? undefined : Number(url.port),
        path: url.pathname,
      };
    } catch {
      // Not a URL after all: the connection, as for authority form.
    }
  }
  return { ...connection, path: '' };
}
