import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { clientAddress, firstHop, peerAddress, requestPath } from '../http/path.js';
import { rawHeader, rawHeaderJoined } from '../http/raw-headers.js';

/** What a tracing backend records about an incoming request, read once from the request. */
export interface IncomingRequestInfo {
  /** The method as received. */
  readonly method: string;
  /** The path, without the query string (it may carry tokens). */
  readonly path: string;
  /** `https` when the proxy in front says so (`X-Forwarded-Proto`) or the socket is TLS, else `http`. */
  readonly scheme: 'http' | 'https';
  /** The host name of the `Host` header. */
  readonly host: string | undefined;
  /** The port of the `Host` header, else the scheme's default. */
  readonly port: number | undefined;
  /** The first `X-Forwarded-For` hop, else the peer address. */
  readonly clientAddress: string | undefined;
  /** The address of the socket's peer (the proxy in front, on App Runner). */
  readonly peerAddress: string | undefined;
  readonly userAgent: string | undefined;
  /** `1.0`, `1.1`. */
  readonly protocolVersion: string;
}

const maxLength = 1024;

function cap(value: string | undefined): string | undefined {
  return value === undefined || value.length <= maxLength ? value : value.slice(0, maxLength);
}

function splitHost(host: string | undefined): { host: string | undefined; port: number | undefined } {
  if (host === undefined || host === '') return { host: undefined, port: undefined };
  // `name`, `name:port`, `[v6]`, `[v6]:port`: the port is after the last colon that follows any `]`.
  const colon = host.lastIndexOf(':');
  if (colon === -1 || colon < host.lastIndexOf(']')) return { host: cap(host), port: undefined };
  const port = Number(host.slice(colon + 1));
  return Number.isInteger(port) && port > 0 && port <= 65_535
    ? { host: cap(host.slice(0, colon)), port }
    : { host: cap(host), port: undefined };
}

/**
 * Reads what a tracing backend records from an incoming request; never throws. `trustedProxies`:
 * see {@link clientAddress}.
 */
export function describeIncomingRequest(req: IncomingMessage, trustedProxies = 1): IncomingRequestInfo {
  const forwardedProto = firstHop(rawHeader(req, 'x-forwarded-proto'))?.toLowerCase();
  const scheme =
    forwardedProto === 'https' || forwardedProto === 'http'
      ? forwardedProto
      : (req.socket as TLSSocket | undefined)?.encrypted === true
        ? 'https'
        : 'http';
  const { host, port } = splitHost(rawHeader(req, 'host'));
  const peer = peerAddress(req.socket?.remoteAddress);
  return {
    method: req.method ?? 'GET',
    path: cap(requestPath(req.url)) ?? '/',
    scheme,
    host,
    port: port ?? (host === undefined ? undefined : scheme === 'https' ? 443 : 80),
    clientAddress: cap(clientAddress(rawHeaderJoined(req, 'x-forwarded-for'), trustedProxies)) ?? peer,
    peerAddress: peer,
    userAgent: cap(rawHeader(req, 'user-agent')),
    protocolVersion: req.httpVersion,
  };
}
