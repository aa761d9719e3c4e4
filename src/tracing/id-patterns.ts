/**
 * The patterns of trace and span ids, in one place, for the modules that parse, check and convert
 * them. Each matches in any case: a module that takes lower case only makes its own from the
 * pattern's `source` (the flags left out). None is global or sticky, so sharing one keeps no state.
 */

/** A trace id in X-Ray form, `1-` then 8 and 24 hex digits; all zeros too (`Self=` may be). */
export const xrayTraceIdPattern = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/i;

/**
 * A trace id in X-Ray form that is not all zeros: an id of zeros is W3C's and OpenTelemetry's
 * invalid id, and X-Ray's too.
 */
export const validXrayTraceIdPattern = /^1-(?!0{8}-0{24}$)[0-9a-f]{8}-[0-9a-f]{24}$/i;

/** A trace id in the form of OpenTelemetry and W3C: 32 hex digits; all zeros too. */
export const hexTraceIdPattern = /^[0-9a-f]{32}$/i;

/** A span (or X-Ray segment) id: 16 hex digits; all zeros too. */
export const spanIdPattern = /^[0-9a-f]{16}$/i;

/** A span (or X-Ray segment) id that is not all zeros, the invalid id. */
export const validSpanIdPattern = /^(?!0{16}$)[0-9a-f]{16}$/i;
