// Ids that reach log lines and response headers: visible ASCII (no space, no control character, so
// a client cannot forge a line or split a header), at most 128 characters.
const acceptedId = /^[\x21-\x7e]{1,128}$/;

/** Whether `id` may be adopted as a request id: visible ASCII, 1–128 characters. */
export function isValidRequestId(id: string): boolean {
  return acceptedId.test(id);
}

/**
 * Whether `id`, an adopted request id (visible ASCII, see {@link isValidRequestId}), goes into a JSON
 * string without escaping, as a generated UUID does: when it holds neither a quote nor a backslash.
 */
export function isPlainRequestId(id: string): boolean {
  return !id.includes('"') && !id.includes('\\');
}
