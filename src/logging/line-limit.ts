import { isRawJson, parseExact } from './exact-json.js';

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

/** The field pino's error serializer writes: kept, cut, ahead of the line's other fields. */
const errorKey = 'err';

/**
 * Longest string, most items (the line's own fields among them) and deepest nesting kept, round
 * after round, until the line fits. Depth goes down with the rest: a deep value is collapsed only
 * when the line does not fit otherwise.
 */
const rounds: readonly Bounds[] = [
  [4_096, 100, 64],
  [1_024, 50, 32],
  [256, 20, 16],
  [64, 8, 8],
];

/** Bounds of one cut. */
type Bounds = readonly [chars: number, items: number, depth: number];

/** What is left of `err` when not even the last round fits. */
const errorFallbacks: readonly Bounds[] = [
  [256, 8, 4],
  [64, 4, 2],
];

/** `text` cut to `chars` characters (never inside a surrogate pair), saying how much went. */
function cutString(text: string, chars: number): string {
  if (text.length <= chars) return text;
  let end = chars;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}… (${text.length - end} more characters)`;
}

/** Cuts values to bounds; an object's keys are listed once, however many rounds read it. */
class Cutter {
  readonly #keys = new Map<object, string[]>();

  /** `value` with every string, array and object cut to `bounds`. */
  cut(value: unknown, bounds: Bounds, depth = 1): unknown {
    const [chars, items, maxDepth] = bounds;
    if (typeof value === 'string') return cutString(value, chars);
    if (typeof value !== 'object' || value === null || isRawJson(value)) return value;
    if (depth >= maxDepth) return Array.isArray(value) ? '[Array]' : '[Object]';
    if (Array.isArray(value)) {
      const kept = value.slice(0, items).map((item) => this.cut(item, bounds, depth + 1));
      if (value.length > items) kept.push(`… (${value.length - items} more items)`);
      return kept;
    }
    const keys = this.keysOf(value);
    // Without a prototype: a `__proto__` key stays a key.
    const copy: Record<string, unknown> = Object.create(null);
    for (let i = 0; i < keys.length && i < items; i++) {
      const key = keys[i] as string;
      copy[cutString(key, chars)] = this.cut((value as Record<string, unknown>)[key], bounds, depth + 1);
    }
    if (keys.length > items) copy['…'] = `${keys.length - items} more keys`;
    return copy;
  }

  /** `Object.keys(value)`, listed once. */
  keysOf(value: object): string[] {
    const listed = this.#keys.get(value);
    if (listed !== undefined) return listed;
    const keys = Object.keys(value);
    this.#keys.set(value, keys);
    return keys;
  }
}

/** Longest value of one of the kit's own fields kept whole (theirs are short: ids, names, a time). */
const maxWholeChars = 256;

/** The fields a cut line ends with. */
const tailKeys: ReadonlySet<string> = new Set(['truncated', 'lineBytes', 'fieldsDropped']);

/** A line being built field by field, its size counted as each is added. */
class LineBuilder {
  readonly #fields: [index: number, json: string][] = [];
  #bytes: number;

  /** `tail` is the most the fields written after the line's own take, comma included. */
  constructor(
    readonly maxBytes: number,
    tail: number,
  ) {
    this.#bytes = 3 + tail; // `{`, `}`, newline
  }

  get count(): number {
    return this.#fields.length;
  }

  /**
   * Adds `"key":value` as the line's field number `index`, when it fits; says whether it did. A field
   * of the app's named as one of the tail's (`truncated`, `lineBytes`, `fieldsDropped`) is left out
   * (and counted among those dropped): written twice, a reader would take the last.
   */
  add(index: number, key: string, value: unknown): boolean {
    if (tailKeys.has(key)) return true;
    const json = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    const bytes = (this.#fields.length > 0 ? 1 : 0) + Buffer.byteLength(json);
    if (this.#bytes + bytes > this.maxBytes) return false;
    this.#bytes += bytes;
    this.#fields.push([index, json]);
    return true;
  }

  /** The line: its fields in their order in the line cut, then `tail`. */
  line(tail: Record<string, unknown>): string {
    const fields = this.#fields.sort((a, b) => a[0] - b[0]).map(([, json]) => json);
    const end = JSON.stringify(tail).slice(1, -1);
    return `{${[...fields, end].join(',')}}\n`;
  }
}

/**
 * `line` (one JSON object and a newline) as it is when it fits in `maxBytes`; else the same object
 * with its longest strings, arrays and objects cut, round by round, until it fits, and
 * `"truncated":true,"lineBytes":<its size before>` added. Each round keeps its first fields (100,
 * then 50, 20, 8), says how many went (`"fieldsDropped":240`), and collapses what is nested deeper
 * than it keeps (64 levels, then 32, 16, 8). The kit's own fields (`level`, `time`, `service`,
 * `requestId`, `traceId`, …), kept whole while they are short strings, the message and `err` are
 * always among those kept. When even the last round does not fit, the line keeps the kit's fields,
 * as much of the message as fits, `err` cut further, and as many of its first fields as fit; past
 * that, `level`, `truncated` and `lineBytes` alone. Cut after masking: a secret value is masked
 * before any of it could be cut off. A line that is not a JSON object is written whole.
 */
export function fitLine(line: string, maxBytes: number, messageKey: MessageKey = 'msg'): string {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: most lines fit without being counted.
  if (line.length * 3 <= maxBytes) return line;
  const bytes = Buffer.byteLength(line);
  if (bytes <= maxBytes) return line;
  const parsed = parseExact(line);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
  return new LineCut(parsed as Record<string, unknown>, bytes, maxBytes, messageKey).fit();
}

/** One over-long line's fields, sorted once into those always kept and the rest. */
class LineCut {
  readonly #cutter = new Cutter();
  readonly #keys: string[];
  /** Indexes of the kit's short fields, kept whole. */
  readonly #whole: number[] = [];
  readonly #message: number | undefined;
  readonly #error: number | undefined;
  /** Indexes of the other fields, in their order. */
  readonly #others: number[] = [];

  constructor(
    readonly fields: Record<string, unknown>,
    readonly bytes: number,
    readonly maxBytes: number,
    messageKey: MessageKey,
  ) {
    this.#keys = this.#cutter.keysOf(fields);
    let message: number | undefined;
    let error: number | undefined;
    this.#keys.forEach((key, index) => {
      const value = fields[key];
      if (keptWhole.has(key) && typeof value === 'string' && value.length <= maxWholeChars)
        this.#whole.push(index);
      else if (key === messageKey) message = index;
      else if (key === errorKey) error = index;
      else this.#others.push(index);
    });
    this.#message = message;
    this.#error = error;
  }

  fit(): string {
    for (const bounds of rounds) {
      const fitted = this.#round(bounds);
      if (fitted !== undefined) return fitted;
    }
    return this.#fallback();
  }

  /** The line with every field cut to `bounds` and its first `bounds[1]` others, if it fits. */
  #round(bounds: Bounds): string | undefined {
    const builder = this.#builder();
    if (!this.#addWhole(builder)) return undefined;
    const others = this.#others.slice(0, bounds[1]);
    for (const index of [this.#message, this.#error, ...others])
      if (index !== undefined && !this.#add(builder, index, bounds)) return undefined;
    return this.#finish(builder);
  }

  /** The kit's fields, as much of the message as fits, then `err` and first fields while they fit. */
  #fallback(): string {
    const builder = this.#builder();
    if (!this.#addWhole(builder)) {
      const level = this.#keys.indexOf('level');
      const tail = { truncated: true, lineBytes: this.bytes };
      const only = level >= 0 && this.#whole.includes(level) ? { level: this.fields.level, ...tail } : tail;
      return `${JSON.stringify(only)}\n`;
    }
    const message = this.#message;
    if (message !== undefined) {
      const key = this.#keys[message] as string;
      const text = this.fields[key];
      if (typeof text !== 'string') this.#add(builder, message, rounds.at(-1) as Bounds);
      else for (const chars of [1_024, 256, 64]) if (builder.add(message, key, cutString(text, chars))) break;
    }
    if (this.#error !== undefined)
      for (const bounds of errorFallbacks) if (this.#add(builder, this.#error, bounds)) break;
    const last = rounds.at(-1) as Bounds;
    for (const index of this.#others) if (!this.#add(builder, index, last)) break;
    return this.#finish(builder);
  }

  /** A builder with room kept for `truncated`, `lineBytes` and `fieldsDropped` at their largest. */
  #builder(): LineBuilder {
    const tail = this.#tail(this.#keys.length);
    return new LineBuilder(this.maxBytes, Buffer.byteLength(JSON.stringify(tail)) - 1);
  }

  #tail(fieldsDropped: number): Record<string, unknown> {
    const tail: Record<string, unknown> = { truncated: true, lineBytes: this.bytes };
    if (fieldsDropped > 0) tail.fieldsDropped = fieldsDropped;
    return tail;
  }

  #addWhole(builder: LineBuilder): boolean {
    return this.#whole.every((index) => {
      const key = this.#keys[index] as string;
      return builder.add(index, key, this.fields[key]);
    });
  }

  #add(builder: LineBuilder, index: number, bounds: Bounds): boolean {
    const key = this.#keys[index] as string;
    return builder.add(index, key, this.#cutter.cut(this.fields[key], bounds));
  }

  #finish(builder: LineBuilder): string {
    return builder.line(this.#tail(this.#keys.length - builder.count));
  }
}
