import { randomUUID } from 'node:crypto';

// Ids that reach log lines verbatim: printable, no spaces, bounded, so a client cannot forge lines.
const acceptedId = /^[\w\-.:/+=@]{1,128}$/;

/** The request id a client or proxy sent in `X-Request-Id`, when well formed; else a new UUID. */
export function requestIdFrom(header: string | undefined): string {
  return header !== undefined && acceptedId.test(header) ? header : randomUUID();
}
