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
 * The exceptions left out of each entity so far: X-Ray's `cause` has no field to count them, so the
 * marker does (`exceptions:412`), and a later send of the same entity adds to the count.
 */
const omittedExceptions = new WeakMap<XrayFields, number>();

/** A document that fits, and what was left out of it. */
export interface FittedDocument {
  readonly document: string;
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
 * Leaves out the last exceptions, as many as `excess` takes, and counts them; the first is always
 * kept. Hundreds of errors recorded on one span (`span.recordError` in a loop) are still too large
 * once each is a short message without its stack.
 */
function dropExceptions(entity: XrayFields, excess: number): boolean {
  const exceptions = entity.cause?.exceptions;
  if (exceptions === undefined) return false;
  let removed = 0;
  let count = 0;
  while (exceptions.length > 1 && removed < excess) {
    // The comma that separated it from the one before.
    removed += jsonBytes(exceptions.pop()) + 1;
    count += 1;
  }
  if (count === 0) return false;
  omittedExceptions.set(entity, (omittedExceptions.get(entity) ?? 0) + count);
  return true;
}

/** The marker's text: the parts left out, the exceptions with their count. */
function markerOf(entity: XrayFields, omitted: readonly OmittedPart[]): string {
  return omitted
    .map((part) => (part === 'exceptions' ? `exceptions:${omittedExceptions.get(entity) ?? 0}` : part))
    .join(' ');
}

const steps: readonly [OmittedPart, (entity: XrayFields, excess: number) => boolean][] = [
  ['metadata', dropMetadata],
  ['annotations', dropAnnotations],
  ['stacks', dropStacks],
  ['messages', shortenMessages],
  ['exceptions', dropExceptions],
];

/**
 * `entity`'s document, made to fit in `limit` bytes (UTF-8) when it does not: in steps, each taken
 * only while the document is still too large — metadata values, then annotations (the largest first,
 * as many as the excess takes), then its exceptions' stacks (counted in their `truncated`), then
 * their messages (cut to 256 characters), then the last of its exceptions (all but the first, as many
 * as the excess takes; counted in the marker, `exceptions:412`). What a step left out is named by the
 * annotation {@link omittedAnnotation}. `undefined` when the document does not fit even so (its subsegments
 * still open, its URL): it is not to be sent. `entity` is changed in place, so a later send of it
 * (once a subsegment still open ends) is as small.
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
      entity.annotations = { ...entity.annotations, [omittedAnnotation]: markerOf(entity, omitted) };
      document = format();
      bytes = Buffer.byteLength(document);
    }
    if (bytes <= limit) return { document, omitted };
  }
  return undefined;
}
