/**
 * The longest log line the kit writes by default, in bytes: under Docker's 16 KiB, where its log
 * copier cuts a line and ECS's `awslogs` driver (in `non-blocking` mode) ships the pieces as events
 * of their own, which breaks the JSON.
 */
export const defaultMaxLineBytes = 16_000;

/** The smallest line limit taken: room for the kit's fields and a message. */
export const minMaxLineBytes = 1_024;

/** The largest line limit taken: CloudWatch Logs takes events of up to 256 KiB. */
export const maxMaxLineBytes = 262_144;

/** The key of a line's message (`logging.messageKey`): pino's, or Powertools', ECS's and Datadog's. */
export type MessageKey = 'msg' | 'message';

/** The keys a line's message may take. */
export const messageKeys: readonly MessageKey[] = ['msg', 'message'];

/** The fields the kit's logger writes on its lines (the last three within a request). */
export const kitFieldNames = [
  'level',
  'time',
  'service',
  'version',
  'instance',
  'region',
  'requestId',
  'traceId',
  'spanId',
] as const;

/** The kit's own fields: short, and what joins a line to its request and trace. Never cut. */
const keptWhole: ReadonlySet<string> = new Set(kitFieldNames);

/** Longest string and most items kept, round after round, until the line fits. */
const rounds: readonly (readonly [chars: number, items: number])[] = [
  [4_096, 100],
  [1_024, 50],
  [256, 20],
  [64, 8],
];
const maxDepth = 8;

/** `text` cut to `chars` characters (never inside a surrogate pair), saying how much went. */
function cutString(text: string, chars: number): string {
  if (text.length <= chars) return text;
  let end = chars;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}… (${text.length - end} more characters)`;
}

/** `JSON.parse` with the source of each value, and `JSON.rawJSON` (Node 22 and later). */
const sourceJson = JSON as unknown as {
  parse(
    text: string,
    reviver: (key: string, value: unknown, context: { source?: string }) => unknown,
  ): unknown;
  rawJSON(source: string): object;
  isRawJSON(value: unknown): boolean;
};

/** A number JSON cannot round-trip (a BigInt pino wrote, an id past 2^53) kept as written. */
function exactNumber(_key: string, value: unknown, context: { source?: string }): unknown {
  return typeof value === 'number' && !Number.isSafeInteger(value) && context.source !== undefined
    ? sourceJson.rawJSON(context.source)
    : value;
}

const notJson = Symbol('not JSON');

/**
 * The line's value, its large numbers exact; without them when the line is nested too deeply for
 * the reviver's recursion (JSON.parse's own has no such limit); `notJson` when it is not JSON.
 */
function parseLine(line: string): unknown {
  try {
    return sourceJson.parse(line, exactNumber);
  } catch (error) {
    if (!(error instanceof RangeError)) return notJson;
  }
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return notJson;
  }
}

/** `value` with every string, array and object cut to the round's bounds. */
function cut(value: unknown, chars: number, items: number, depth: number): unknown {
  if (typeof value === 'string') return cutString(value, chars);
  if (typeof value !== 'object' || value === null || sourceJson.isRawJSON(value)) return value;
  if (depth >= maxDepth) return Array.isArray(value) ? '[Array]' : '[Object]';
  if (Array.isArray(value)) {
    const kept = value.slice(0, items).map((item) => cut(item, chars, items, depth + 1));
    if (value.length > items) kept.push(`… (${value.length - items} more items)`);
    return kept;
  }
  const keys = Object.keys(value);
  // Without a prototype: a `__proto__` key stays a key.
  const copy: Record<string, unknown> = Object.create(null);
  for (const key of keys.slice(0, items))
    copy[cutString(key, chars)] = cut((value as Record<string, unknown>)[key], chars, items, depth + 1);
  if (keys.length > items) copy['…'] = `${keys.length - items} more keys`;
  return copy;
}

/** Longest value of one of the kit's own fields kept whole (theirs are short: ids, names, a time). */
const maxWholeChars = 256;

/** The line of `fields` with `truncated` and `lineBytes` added, when it fits in `maxBytes`. */
function fitting(fields: Record<string, unknown>, bytes: number, maxBytes: number): string | undefined {
  fields.truncated = true;
  fields.lineBytes = bytes;
  const line = `${JSON.stringify(fields)}\n`;
  return Buffer.byteLength(line) <= maxBytes ? line : undefined;
}

/**
 * `line` (one JSON object and a newline) as it is when it fits in `maxBytes`; else the same object
 * with its longest strings, arrays and objects cut, round by round, until it fits, and
 * `"truncated":true,"lineBytes":<its size before>` added. The kit's own fields (`level`, `time`,
 * `service`, `requestId`, `traceId`, …) are kept whole while they are short strings. When even the
 * last round does not fit (a line of thousands of fields), only those and the message are kept, the
 * message cut to fit; past that, `level`, `truncated` and `lineBytes` alone. Cut after masking: a
 * secret value is masked before any of it could be cut off. A line that is not a JSON object is
 * written whole.
 */
export function fitLine(line: string, maxBytes: number, messageKey: MessageKey = 'msg'): string {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: most lines fit without being counted.
  if (line.length * 3 <= maxBytes) return line;
  const bytes = Buffer.byteLength(line);
  if (bytes <= maxBytes) return line;
  const parsed = parseLine(line);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
  const fields = parsed as Record<string, unknown>;
  const whole = (key: string) => {
    const value = fields[key];
    return keptWhole.has(key) && typeof value === 'string' && value.length <= maxWholeChars;
  };
  for (const [chars, items] of rounds) {
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(fields))
      out[key] = whole(key) ? fields[key] : cut(fields[key], chars, items, 1);
    const fitted = fitting(out, bytes, maxBytes);
    if (fitted !== undefined) return fitted;
  }
  // Too many fields even so: the kit's own, and as much of the message as fits.
  const kit: Record<string, unknown> = Object.create(null);
  for (const key of keptWhole) if (whole(key)) kit[key] = fields[key];
  const message = typeof fields[messageKey] === 'string' ? fields[messageKey] : '';
  for (const chars of [1_024, 256, 64, 0]) {
    const fitted = fitting(
      chars === 0 ? { ...kit } : { ...kit, [messageKey]: cutString(message, chars) },
      bytes,
      maxBytes,
    );
    if (fitted !== undefined) return fitted;
  }
  return (
    fitting(whole('level') ? { level: fields.level } : {}, bytes, maxBytes) ??
    `${JSON.stringify({ truncated: true, lineBytes: bytes })}\n`
  );
}
