// Ids that reach log lines and response headers: visible ASCII (no space, no control character, so
// a client cannot forge a line or split a header), at most 128 characters.
const acceptedId = /^[\x21-\x7e]{1,128}$/;

/** Whether `id` may be adopted as a request id: visible ASCII, 1–128 characters. */
export function isValidRequestId(id: string): boolean {
  return acceptedId.test(id);
}

// An adopted id with neither `"` nor `\` goes into a JSON string as it is, as a generated UUID does.
const plainId = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;

/**
 * Whether `id`, an adopted request id, goes into a JSON string without escaping: when it holds
 * neither a quote nor a backslash.
 */
export function isPlainRequestId(id: string): boolean {
  return plainId.test(id);
}
