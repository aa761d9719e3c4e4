/** The fields of an `X-Amzn-Trace-Id` header that the kit understands. */
export interface TraceHeader {
  /** `1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`, lower case. */
  readonly root: string;
  /** 16 hex digits, lower case: the caller's segment or span. */
  readonly parent: string | undefined;
  /** `'1'` sampled, `'0'` not, `'?'` the caller asks the callee to decide and tell. */
  readonly sampled: '0' | '1' | '?' | undefined;
  /** `Self=` as an ALB adds it. */
  readonly self: string | undefined;
  /** `Lineage=` as Lambda recursion detection adds it. */
  readonly lineage: string | undefined;
}

/** Longest header parsed; X-Ray's own headers are far shorter. */
export const maxTraceHeaderLength = 1024;

const rootPattern = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/i;
const parentPattern = /^[0-9a-f]{16}$/i;
const selfPattern = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/i;
const lineagePattern = /^[0-9a-zA-Z:|]{1,200}$/;

/**
 * Parses an `X-Amzn-Trace-Id` header leniently: keys in any case, spaces around keys and values,
 * empty or extra `;` parts, unknown keys (ignored). Returns `undefined` — and so starts a new trace —
 * when the header is absent, too long, or has no well-formed `Root`; never throws. Malformed
 * optional fields are dropped, so nothing malformed is ever forwarded.
 */
export function parseTraceHeader(raw: string | undefined): TraceHeader | undefined {
  if (raw === undefined || raw.length > maxTraceHeaderLength) return undefined;
  let root: string | undefined;
  let parent: string | undefined;
  let sampled: TraceHeader['sampled'];
  let self: string | undefined;
  let lineage: string | undefined;
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim();
    switch (key) {
      case 'root':
        if (rootPattern.test(value)) root = value.toLowerCase();
        break;
      case 'parent':
        if (parentPattern.test(value)) parent = value.toLowerCase();
        break;
      case 'sampled':
        if (value === '0' || value === '1' || value === '?') sampled = value;
        break;
      case 'self':
        if (selfPattern.test(value)) self = value.toLowerCase();
        break;
      case 'lineage':
        if (lineagePattern.test(value)) lineage = value;
        break;
    }
  }
  return root === undefined ? undefined : { root, parent, sampled, self, lineage };
}
