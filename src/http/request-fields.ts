import { kitFieldNames, messageKeys } from '../logging/line-limit.js';
import { getMutableRequestContext, type RequestFieldValue, scopeSlot } from './context.js';

/**
 * The bounds of {@link addRequestFields}, per request: a log line is not the place for a document,
 * and a field that a client can fill must not grow every line without limit.
 */
export const requestFieldLimits = Object.freeze({
  /** Fields one request can carry; those added past it are dropped. */
  maxFields: 32,
  /** Characters of a field name. */
  maxNameLength: 64,
  /** Characters of a string value; a longer value is dropped, not cut (a cut id would mislead). */
  maxValueLength: 256,
});

/**
 * Names the kit writes itself on the lines of a request: a field of that name would be overwritten
 * on some lines and win on others, so it is refused.
 */
const reservedNames = new Set<string>([
  ...kitFieldNames,
  ...messageKeys,
  'pid',
  'hostname',
  'method',
  'path',
  'route',
  'statusCode',
  'durationMs',
  'bytes',
  'userAgent',
  'clientIp',
  'err',
  // Written on a line cut to its size limit, which a query filters on.
  'truncated',
  'lineBytes',
  // Would set the prototype of the request's fields rather than add one (a name from a parsed body).
  '__proto__',
]);

// An array index ("0", "2024"): JavaScript puts such keys first in an object, so pino would write it
// before the kit's own fields and the request line would differ between its two writers.
const indexName = /^(0|[1-9]\d*)$/;

function acceptable(name: string, value: unknown): boolean {
  if (
    name.length === 0 ||
    name.length > requestFieldLimits.maxNameLength ||
    reservedNames.has(name) ||
    indexName.test(name)
  )
    return false;
  switch (typeof value) {
    case 'string':
      return value.length <= requestFieldLimits.maxValueLength;
    case 'number':
      return Number.isFinite(value);
    case 'boolean':
      return true;
    default:
      return value === null;
  }
}

/**
 * Adds `fields` to the request being handled: every line the kit's loggers write within it from now
 * on (child loggers and Fastify's `request.log` included) carries them, and so does its request line;
 * `getRequestContext().fields` shows them. A later value replaces an earlier one of the same name;
 * `undefined` removes a field. Values are strings (up to 256 characters), finite numbers, booleans or
 * `null`; names are up to 64 characters and not one the kit writes itself (`requestId`, `traceId`,
 * `spanId`, the request line's fields, a cut line's `truncated` and `lineBytes`), nor `__proto__`,
 * nor an array index (`"42"`). A request holds at most 32
 * fields. Anything else is dropped, with one warning line per request that names what. Registered
 * secret values are masked in them on log lines, as everywhere on a line, and in span attributes
 * (`tracing.requestFields`).
 *
 * @returns `true` when called within a request (even if some fields were dropped); `false` outside
 * any request, where it does nothing.
 *
 * @example
 * ```ts
 * import { addRequestFields } from 'apprunner-kit';
 *
 * app.use((req, res, next) => {
 *   addRequestFields({ tenant: req.get('x-tenant') ?? null, userId: req.user?.id ?? null });
 *   next();
 * });
 * ```
 */
export function addRequestFields(fields: Readonly<Record<string, RequestFieldValue | undefined>>): boolean {
  const context = getMutableRequestContext();
  if (context === undefined) return false;
  const next: Record<string, RequestFieldValue> = { ...context.fields };
  let count = Object.keys(next).length;
  const dropped: string[] = [];
  for (const name of Object.keys(fields)) {
    const value = fields[name];
    if (value === undefined) {
      if (Object.hasOwn(next, name)) {
        delete next[name];
        count--;
      }
      continue;
    }
    const isNew = !Object.hasOwn(next, name);
    if (!acceptable(name, value) || (isNew && count >= requestFieldLimits.maxFields)) {
      dropped.push(name);
      continue;
    }
    // A lone surrogate (a string cut in the middle of an emoji) is written differently by pino and
    // by JSON.stringify: made well formed, the line is the same whichever writes it.
    next[name] = typeof value === 'string' ? value.toWellFormed() : value;
    if (isNew) count++;
  }
  context.fields = Object.freeze(next);
  if (dropped.length > 0) context[scopeSlot]?.fieldsDropped(context, dropped);
  return true;
}
