import type { XrayFields } from './attributes.js';
import { cutText } from './bounded-error.js';

/**
 * The annotation that names what was left out of a document to fit it in a datagram (`metadata
 * annotations`): `annotation.apprunner_kit_omitted CONTAINS "metadata"` finds such traces.
 */
export const omittedAnnotation = 'apprunner_kit_omitted';

/** A message kept at the last step, in UTF-16 code units. */
const shortMessage = 256;
/** Room kept for the marker annotation when working out how much to leave out. */
const markerBytes = 96;

/** What each step leaves out, in order, as the marker names it. */
export type OmittedPart = 'metadata' | 'annotations' | 'stacks' | 'messages' | 'exceptions';

/**
 * What was left out of each entity so far, by every call on it: the entity is changed in place, so
 * a later send of it (once a subsegment still open ends) lacks what an earlier one left out, and its
 * marker names that too. The exceptions are counted, as X-Ray's `cause` has no field to count them
 * (`exceptions:412`).
 */
interface Omissions {
  readonly parts: Set<OmittedPart>;
  exceptions: number;
}

const omissions = new WeakMap<XrayFields, Omissions>();

function omissionsOf(entity: XrayFields): Omissions {
  let found = omissions.get(entity);
  if (found === undefined) {
    found = { parts: new Set(), exceptions: 0 };
    omissions.set(entity, found);
  }
  return found;
}

/** A document that fits, and what was left out of it. */
export interface FittedDocument {
  readonly document: string;
  /** What this call left out (the marker names what earlier calls on the entity did too). */
  readonly omitted: readonly OmittedPart[];
}

/** Bytes of `value` as JSON; a value JSON cannot write (a BigInt) counts as too large to keep. */
function jsonBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Removes the largest values of `entries` until `excess` bytes are gone; whether any was. */
function dropLargest(entries: { bytes: number; remove: () => void }[], excess: number): boolean {
  entries.sort((a, b) => b.bytes - a.bytes);
  let removed = 0;
  for (const entry of entries) {
    if (removed >= excess) break;
    entry.remove();
    removed += entry.bytes;
  }
  return removed > 0;
}

function dropMetadata(entity: XrayFields, excess: number): boolean {
  const metadata = entity.metadata;
  if (metadata === undefined) return false;
  const entries: { bytes: number; remove: () => void }[] = [];
  for (const [namespace, values] of Object.entries(metadata)) {
    for (const key of Object.keys(values)) {
      entries.push({
        bytes: jsonBytes(values[key]) + Buffer.byteLength(key) + 4,
        remove: () => {
          Reflect.deleteProperty(values, key);
          if (Object.keys(values).length === 0) Reflect.deleteProperty(metadata, namespace);
        },
      });
    }
  }
  const changed = dropLargest(entries, excess);
  if (Object.keys(metadata).length === 0) Reflect.deleteProperty(entity, 'metadata');
  return changed;
}

function dropAnnotations(entity: XrayFields, excess: number): boolean {
  const annotations = entity.annotations;
  if (annotations === undefined) return false;
  const entries: { bytes: number; remove: () => void }[] = [];
  for (const key of Object.keys(annotations)) {
    if (key === omittedAnnotation) continue;
    entries.push({
      bytes: jsonBytes(annotations[key]) + Buffer.byteLength(key) + 4,
      remove: () => Reflect.deleteProperty(annotations, key),
    });
  }
  return dropLargest(entries, excess);
}

function dropStacks(entity: XrayFields): boolean {
  let changed = false;
  for (const exception of entity.cause?.exceptions ?? []) {
    if (!Array.isArray(exception.stack) || exception.stack.length === 0) continue;
    exception.truncated = (exception.truncated ?? 0) + exception.stack.length;
    Reflect.deleteProperty(exception, 'stack');
    changed = true;
  }
  return changed;
}

/**
 * The exceptions whose message this step cut: a cut message is longer than {@link shortMessage}
 * (the marker, `… [1744 characters cut]`, follows the text kept), and to cut it again would go on
 * for ever, the marker's count lost at the first time.
 */
const shortened = new WeakSet<object>();

function shortenMessages(entity: XrayFields): boolean {
  let changed = false;
  for (const exception of entity.cause?.exceptions ?? []) {
    const { message } = exception;
    if (typeof message !== 'string' || message.length <= shortMessage || shortened.has(exception)) continue;
    exception.message = cutText(message, shortMessage);
    shortened.add(exception);
    changed = true;
  }
  return changed;
}

/**
 * Whether `entity` is a subsegment: the SDK's `Subsegment.format()` writes `type: 'subsegment'` on
 * it before serialising it (X-Ray needs it on a subsegment sent alone), and a segment has no `type`.
 * {@link fitDocument} formats the entity before any step, so the field is there by then.
 */
function isSubsegment(entity: XrayFields): boolean {
  return (entity as { type?: unknown }).type === 'subsegment';
}

/**
 * Leaves out the oldest exceptions, as many as `excess` takes, and counts them; the newest is always
 * kept. The SDK adds a segment's exceptions at the end and a subsegment's at the start: the newest
 * on a segment is usually the route's error, recorded as the request ends, the one to keep. Hundreds
 * of errors recorded on one span (`span.recordError` in a loop) are still too large once each is a
 * short message without its stack.
 */
function dropExceptions(entity: XrayFields, excess: number): boolean {
  const exceptions = entity.cause?.exceptions;
  if (exceptions === undefined || exceptions.length <= 1) return false;
  const oldestFirst = !isSubsegment(entity);
  let removed = 0;
  let count = 0;
  while (count < exceptions.length - 1 && removed < excess) {
    const index = oldestFirst ? count : exceptions.length - 1 - count;
    // The comma that separated it from its neighbour.
    removed += jsonBytes(exceptions[index]) + 1;
    count += 1;
  }
  // One splice: a shift() per exception would move the rest each time (thousands of them).
  exceptions.splice(oldestFirst ? 0 : exceptions.length - count, count);
  omissionsOf(entity).exceptions += count;
  return true;
}

const steps: readonly [OmittedPart, (entity: XrayFields, excess: number) => boolean][] = [
  ['metadata', dropMetadata],
  ['annotations', dropAnnotations],
  ['stacks', dropStacks],
  ['messages', shortenMessages],
  ['exceptions', dropExceptions],
];

/** The marker's text: the parts left out so far, in the order of the steps, the exceptions counted. */
function markerOf(entity: XrayFields): string {
  const { parts, exceptions } = omissionsOf(entity);
  return steps
    .filter(([part]) => parts.has(part))
    .map(([part]) => (part === 'exceptions' ? `exceptions:${exceptions}` : part))
    .join(' ');
}

/**
 * `entity`'s document, made to fit in `limit` bytes (UTF-8) when it does not: in steps, each taken
 * only while the document is still too large — metadata values, then annotations (the largest first,
 * as many as the excess takes), then its exceptions' stacks (counted in their `truncated`), then
 * their messages (cut to 256 characters), then its oldest exceptions (all but the newest, as many as
 * the excess takes; counted in the marker, `exceptions:412`). What a step left out is named by the
 * annotation {@link omittedAnnotation}. `undefined` when the document does not fit even so (its
 * subsegments still open, its URL): it is not to be sent. `entity` is changed in place, so a later
 * send of it (once a subsegment still open ends) is as small, and its marker names what every call
 * left out.
 *
 * @example
 * ```ts
 * const fitted = fitDocument(segment, () => segment.format(), 65_000);
 * if (fitted !== undefined) send(fitted.document); // fitted.omitted: ['metadata']
 * ```
 */
export function fitDocument(
  entity: XrayFields,
  format: () => string,
  limit: number,
): FittedDocument | undefined {
  let document = format();
  let bytes = Buffer.byteLength(document);
  const omitted: OmittedPart[] = [];
  for (const [part, step] of steps) {
    while (bytes > limit && step(entity, bytes - limit + markerBytes)) {
      if (!omitted.includes(part)) omitted.push(part);
      omissionsOf(entity).parts.add(part);
      entity.annotations = { ...entity.annotations, [omittedAnnotation]: markerOf(entity) };
      document = format();
      bytes = Buffer.byteLength(document);
    }
    if (bytes <= limit) return { document, omitted };
  }
  return undefined;
}
