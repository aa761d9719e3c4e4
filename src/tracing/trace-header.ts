import { randomFillSync } from 'node:crypto';
import {
  hexTraceIdPattern,
  validSpanIdPattern,
  validXrayTraceIdPattern,
  xrayTraceIdPattern,
} from './id-patterns.js';

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
        if (validXrayTraceIdPattern.test(value)) root = value.toLowerCase();
        break;
      case 'parent':
        if (validSpanIdPattern.test(value)) parent = value.toLowerCase();
        break;
      case 'sampled':
        if (value === '0' || value === '1' || value === '?') sampled = value;
        break;
      case 'self':
        if (xrayTraceIdPattern.test(value)) self = value.toLowerCase();
        break;
      case 'lineage':
        if (lineagePattern.test(value)) lineage = value;
        break;
    }
  }
  return root === undefined ? undefined : { root, parent, sampled, self, lineage };
}

/** The fields {@link formatTraceHeader} writes. */
export interface TraceHeaderFields {
  /** `1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`. */
  readonly root: string;
  /** 16 hex digits: the span (X-Ray: segment) the receiver's span is a child of. */
  readonly parent?: string | undefined;
  /** `'1'` sampled, `'0'` not, `'?'` the receiver decides (and says so in its response). */
  readonly sampled?: '0' | '1' | '?' | undefined;
  /** `Lineage=` as received, forwarded for Lambda's recursion detection. */
  readonly lineage?: string | undefined;
}

/**
 * Writes an `X-Amzn-Trace-Id` value: `Root=…;Parent=…;Sampled=…;Lineage=…`, lower-case hex.
 * Each field is checked against the same patterns as {@link parseTraceHeader}: a malformed optional
 * field is left out, and a malformed `root` gives `undefined`, so nothing malformed is ever sent on.
 *
 * @example
 * ```ts
 * formatTraceHeader({ root: '1-5759e988-bd862e3fe1be46a994272793', parent: '53995c3f42cd8ad8', sampled: '1' });
 * // 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'
 * ```
 */
export function formatTraceHeader(fields: TraceHeaderFields): string | undefined {
  if (typeof fields.root !== 'string' || !validXrayTraceIdPattern.test(fields.root)) return undefined;
  let header = `Root=${fields.root.toLowerCase()}`;
  const { parent, sampled, lineage } = fields;
  if (typeof parent === 'string' && validSpanIdPattern.test(parent))
    header += `;Parent=${parent.toLowerCase()}`;
  if (sampled === '0' || sampled === '1' || sampled === '?') header += `;Sampled=${sampled}`;
  if (typeof lineage === 'string' && lineagePattern.test(lineage)) header += `;Lineage=${lineage}`;
  return header;
}

/** True for a well-formed X-Ray trace id, `1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx` (any case). */
export function isTraceId(value: unknown): value is string {
  return typeof value === 'string' && validXrayTraceIdPattern.test(value);
}

// Random ids come from one pooled buffer refilled 4 KiB at a time: `randomBytes` per id costs about
// a microsecond, a slice of the pool a few dozen nanoseconds.
const poolSize = 4096;
const pool = Buffer.allocUnsafe(poolSize);
let poolOffset = poolSize;

function randomHex(bytes: number): string {
  if (poolOffset + bytes > poolSize) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}

/**
 * A new X-Ray trace id: `1-`, the epoch time in seconds as 8 hex digits, `-`, 96 random bits as 24
 * hex digits. X-Ray rejects ids whose time is more than 30 days off, which is why the time is there.
 *
 * @example
 * ```ts
 * newTraceId(); // '1-6743c2be-9f0c3e5b2d1a48c7b6e5f4a3'
 * ```
 */
export function newTraceId(nowMs: number = Date.now()): string {
  const hex = newHexTraceId(nowMs);
  return `1-${hex.slice(0, 8)}-${hex.slice(8)}`;
}

/**
 * A new X-Ray trace id in the 32-hex-digit form OpenTelemetry holds (the same as `newTraceId()`
 * without the version and dashes), made directly: this runs once per request.
 */
export function newHexTraceId(nowMs: number = Date.now()): string {
  const seconds = Math.floor(nowMs / 1000) >>> 0;
  let random = randomHex(12);
  while (random === '000000000000000000000000') random = randomHex(12);
  return `${seconds.toString(16).padStart(8, '0')}${random}`;
}

/** A new span id: 16 random hex digits, never all zeros (the invalid id). */
export function newSpanId(): string {
  let id = randomHex(8);
  while (id === '0000000000000000') id = randomHex(8);
  return id;
}

/**
 * The 32-hex-digit form OpenTelemetry and W3C use for an X-Ray trace id (the same 128 bits without
 * the version and dashes); `undefined` for a malformed id.
 */
export function toHexTraceId(traceId: string): string | undefined {
  if (!validXrayTraceIdPattern.test(traceId)) return undefined;
  return `${traceId.slice(2, 10)}${traceId.slice(11)}`.toLowerCase();
}

/**
 * The X-Ray form (`1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`) of a 32-hex-digit trace id; `undefined`
 * for anything else, and for the all-zero invalid id.
 */
export function fromHexTraceId(hex: string): string | undefined {
  if (!hexTraceIdPattern.test(hex) || /^0+$/.test(hex)) return undefined;
  const lower = hex.toLowerCase();
  return `1-${lower.slice(0, 8)}-${lower.slice(8)}`;
}

/** Longest `tracestate` forwarded as received: what W3C asks every participant to carry at least. */
const maxTraceStateLength = 512;

/** The members of a W3C list header (`tracestate`, `baggage`): split on `,`, trimmed, blank ones left out. */
function listMembers(raw: string): string[] {
  return raw
    .split(',')
    .map((member) => member.trim())
    .filter((member) => member !== '');
}

// W3C Trace Context's tracestate grammar: a key is simple (`rojo`) or multi-tenant (`fw529a3039@dt`);
// a value is up to 256 printable characters but `,` and `=`, not ending in a space.
const traceStateMember =
  /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * A received `tracestate` as the kit carries it on, or `undefined` when W3C says to discard it: a
 * member that breaks the grammar, a key twice, more than 32 members. Blank members are left out; past
 * {@link maxTraceStateLength} characters, members longer than 128 go first, then members from the end
 * (the cut W3C allows).
 */
export function boundedTraceState(raw: string): string | undefined {
  let members = listMembers(raw);
  if (members.length === 0 || members.length > 32) return undefined;
  const keys = new Set<string>();
  for (const member of members) {
    if (!traceStateMember.test(member)) return undefined;
    const key = member.slice(0, member.indexOf('='));
    if (keys.has(key)) return undefined;
    keys.add(key);
  }
  let joined = members.join(',');
  if (joined.length > maxTraceStateLength) {
    members = members.filter((member) => member.length <= 128);
    joined = members.join(',');
    while (joined.length > maxTraceStateLength) {
      members.pop();
      joined = members.join(',');
    }
  }
  return joined === '' ? undefined : joined;
}

/** Longest `baggage` forwarded as received: W3C Baggage's limit for a whole header. */
const maxBaggageLength = 8192;

// W3C Baggage's grammar: `key=value` members (a token, then octets with no space, `"`, `,`, `;` or
// `\`), each with optional `;property` or `;key=value` properties; spaces around the separators.
// Neither a token nor a value holds a `;` or a space, so a member is checked part by part, split on
// `;` and trimmed: each pattern then has one way to match. One pattern for the whole member had
// many (the spaces after a `=` were the value's end or the next `;`'s start), and a header of 100
// bytes with tabs after each `;p=` took it minutes to reject.
const baggageToken = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const baggageValue = '[\\x21\\x23-\\x2b\\x2d-\\x3a\\x3c-\\x5b\\x5d-\\x7e]*';
const baggageKeyValue = new RegExp(`^${baggageToken}[ \\t]*=[ \\t]*${baggageValue}$`);
const baggageProperty = new RegExp(`^${baggageToken}(?:[ \\t]*=[ \\t]*${baggageValue})?$`);

/** `text` without the spaces and tabs at its ends: the optional white space around `;`. */
function trimSpacesAndTabs(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start += 1;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end -= 1;
  return text.slice(start, end);
}

/** Whether a `baggage` member (trimmed) keeps W3C Baggage's grammar, in time linear in its length. */
function wellFormedBaggageMember(member: string): boolean {
  const parts = member.split(';');
  if (!baggageKeyValue.test(trimSpacesAndTabs(parts[0]!))) return false;
  for (let i = 1; i < parts.length; i += 1)
    if (!baggageProperty.test(trimSpacesAndTabs(parts[i]!))) return false;
  return true;
}

/** Most members of a `baggage` header W3C has a receiver carry on. */
const maxBaggageMembers = 180;

/**
 * A received `baggage` as the kit carries it on (blank members left out), or `undefined` when a
 * member breaks W3C Baggage's grammar, or the header is past its limits (8,192 characters, 180
 * members): a malformed header is dropped whole, never passed on.
 */
export function boundedBaggage(raw: string): string | undefined {
  if (raw.length > maxBaggageLength) return undefined;
  const members = listMembers(raw);
  if (members.length === 0 || members.length > maxBaggageMembers) return undefined;
  for (const member of members) if (!wellFormedBaggageMember(member)) return undefined;
  return members.join(',');
}

const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * Parses a W3C `traceparent` header (`00-<trace id>-<parent id>-<flags>`) as Trace Context says a
 * receiver must: lower-case hex only; version `ff`, an all-zero trace or parent id, or a version-00
 * value with anything after its flags are invalid; a later version keeps its first four fields (what
 * follows them must start with `-`). Spaces around the value are ignored. The trace id takes the
 * X-Ray form (`1-` + its first 8 digits + `-` + the rest): the same 128 bits. `undefined` for
 * anything else; never throws.
 *
 * @example
 * ```ts
 * parseTraceparent('00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01');
 * // { root: '1-5759e988-bd862e3fe1be46a994272793', parent: '53995c3f42cd8ad8', sampled: '1', … }
 * ```
 */
export function parseTraceparent(raw: string | undefined): TraceHeader | undefined {
  if (raw === undefined || raw.length > maxTraceHeaderLength) return undefined;
  const value = raw.trim();
  let head = value;
  if (value.length > 55 && !value.startsWith('00-') && value[55] === '-') head = value.slice(0, 55);
  const match = traceparentPattern.exec(head);
  if (match === null) return undefined;
  const [, version, hexTraceId, parent, flags] = match;
  if (version === 'ff' || parent === '0000000000000000') return undefined;
  const root = fromHexTraceId(hexTraceId!);
  if (root === undefined) return undefined;
  const sampled = (Number.parseInt(flags!, 16) & 1) === 1 ? '1' : '0';
  return { root, parent, sampled, self: undefined, lineage: undefined };
}

/**
 * Writes a W3C `traceparent` (version 00) naming span `parent` of trace `root` (X-Ray form) as the
 * receiver's parent; `undefined` when either id is malformed.
 */
export function formatTraceparent(root: string, parent: string, sampled: boolean): string | undefined {
  const hex = toHexTraceId(root);
  if (hex === undefined || !validSpanIdPattern.test(parent)) return undefined;
  return `00-${hex}-${parent.toLowerCase()}-${sampled ? '01' : '00'}`;
}

/**
 * A trace context carried with a message, as {@link RuntimeTracer.span}'s `parent` and `links` take
 * it: an `X-Amzn-Trace-Id` value (`Root=…;Parent=…;Sampled=…`, as in SQS's `AWSTraceHeader` system
 * attribute) or a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`, in any case here: a message
 * attribute is not a header, and some tools write it upper case). `undefined` for anything else
 * (never throws: the value comes off the network).
 */
export function parseTraceContext(value: unknown): TraceHeader | undefined {
  if (typeof value !== 'string' || value.length > maxTraceHeaderLength) return undefined;
  const text = value.trim().toLowerCase();
  return /^[0-9a-f]{2}-/.test(text) ? parseTraceparent(text) : parseTraceHeader(value);
}
