import { randomUUID } from 'node:crypto';

// Ids that reach log lines and response headers: visible ASCII (no space, no control character, so
// a client cannot forge a line or split a header), at most 128 characters.
const acceptedId = /^[\x21-\x7e]{1,128}$/;

/** Whether `id` may be adopted as a request id: visible ASCII, 1–128 characters. */
export function isValidRequestId(id: string): boolean {
  return acceptedId.test(id);
}

/** The request id a client or proxy sent, when well formed (visible ASCII, 1–128 characters); else a new UUID. */
export function requestIdFrom(header: string | undefined): string {
  return header !== undefined && acceptedId.test(header) ? header : randomUUID();
}
