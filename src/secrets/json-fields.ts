import { minimumRedactedLength } from '../logging/redaction.js';

/**
 * Most string fields of one JSON secret registered for masking. A realistic secret has a few dozen;
 * a 64 KB document of thousands would otherwise put thousands of values into every log line's
 * matcher, at every rotation.
 */
export const maxMaskedJsonFields = 256;

/**
 * Fields of AWS's secret templates (RDS, Redshift, DocumentDB rotation) that name where to connect,
 * not how to get in: masked, `"engine":"postgres"` and the host would hide every line that names
 * them. Compared in lower case. Read through a `#key` reference, such a field is masked as any value.
 */
const nonSecretFields: ReadonlySet<string> = new Set([
  'engine',
  'host',
  'port',
  'dbname',
  'username',
  'dbclusteridentifier',
  'dbinstanceidentifier',
]);

/** Most paths of too-short fields named in the line that says they are not masked. */
const namedShortFields = 10;

/** The string fields of a JSON secret to mask, and what is left unmasked (by path, never by value). */
export interface JsonSecretFields {
  /**
   * Distinct string values of at least {@link minimumRedactedLength} characters, nested ones too, in
   * document order, other than the text itself: {@link maxMaskedJsonFields} at most.
   */
  readonly values: readonly string[];
  /** Paths (`db.user`, `hosts[0]`) of the first non-empty string fields too short to mask. */
  readonly tooShort: readonly string[];
  /** Maskable string fields beyond the first {@link maxMaskedJsonFields} values, left unmasked. */
  readonly beyondBound: number;
}

/**
 * The string fields of `text` when it is a JSON object, array or string (`getJson` hands them out one
 * by one, so each must be masked on its own); `undefined` for any other text. Numbers, booleans and
 * keys are not secrets' fields: a port or a timeout masked as text would mask those digits in every
 * line; nor are the connection fields of AWS's secret templates (`engine`, `host`, `dbname`,
 * `username`…). Walks without recursion: a deeply nested document cannot overflow the stack.
 */
export function jsonSecretFields(
  text: string,
  limit: number = maxMaskedJsonFields,
): JsonSecretFields | undefined {
  if (!startsLikeJsonText(text)) return undefined;
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return undefined; // not JSON: the value is masked whole, as any other
  }
  const values = new Set<string>();
  const tooShort: string[] = [];
  let beyondBound = 0;
  const pending: [unknown, string][] = [[document, '']];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, path] = next;
    if (typeof node === 'string') {
      if (node === text || values.has(node)) continue;
      if (node.length >= minimumRedactedLength) {
        if (values.size < limit) values.add(node);
        else beyondBound++;
      } else if (node.length > 0 && tooShort.length < namedShortFields) {
        tooShort.push(path === '' ? '(the whole value)' : path);
      }
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) pending.push([node[i], `${path}[${i}]`]);
    } else if (typeof node === 'object' && node !== null) {
      const keys = Object.keys(node);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        const value = (node as Record<string, unknown>)[key];
        if (typeof value === 'string' && nonSecretFields.has(key.toLowerCase())) continue;
        pending.push([value, path === '' ? key : `${path}.${key}`]);
      }
    }
  }
  return { values: [...values], tooShort, beyondBound };
}

/** The first character other than JSON whitespace opens an object, an array or a string. */
function startsLikeJsonText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    return c === 123 /* { */ || c === 91 /* [ */ || c === 34 /* " */;
  }
  return false;
}
