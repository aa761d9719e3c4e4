/** The head fields a line's own object or a child's bindings named already: warned about once each. */
const headFieldsWarned = new Set<string>();

/**
 * `fields` without `level` and `time`, which pino writes itself at the head of every line: written
 * again further on, a last-wins parser (`JSON.parse`, jq, most log pipelines) would read the app's
 * `level` in place of the line's (`{ level: 'admin' }` made a `warn` line an `admin` one). Dropped
 * with one process warning per name (`ARK_LOG_FIELD_RESERVED`), which the kit logs, as Powertools
 * Logger does. Used for a line's own object and for a child's bindings (a bound `time` was written
 * after the line's; a bound `level` pino drops without a word).
 */
export function withoutHeadFields<Fields extends object>(fields: Fields): Fields {
  const { level, time, ...rest } = fields as { level?: unknown; time?: unknown };
  for (const [name, value] of [
    ['level', level],
    ['time', time],
  ] as const) {
    if (value === undefined || headFieldsWarned.has(name)) continue;
    headFieldsWarned.add(name);
    process.emitWarning(
      `A log field "${name}" (of a line, or bound to a child) was left out: the kit writes "${name}" itself at the head of every line, and a second key of that name would be read in its place by most log tools. Rename the field (such as "${name === 'level' ? 'userLevel' : 'eventTime'}"); this is said once.`,
      { code: 'ARK_LOG_FIELD_RESERVED' },
    );
  }
  return rest as Fields;
}

/** Whether `fields` names a head field (an object given as a line's fields or a child's bindings). */
export function hasHeadFields(fields: unknown): fields is object {
  if (typeof fields !== 'object' || fields === null) return false;
  const head = fields as { level?: unknown; time?: unknown };
  return head.level !== undefined || head.time !== undefined;
}
