/**
 * What a line of the app's output is, as CloudWatch Logs Insights will see it: a JSON object with a
 * level and a timestamp (its fields are discovered and queryable), JSON missing one of them, or text.
 */
export type LogLineKind = 'structured' | 'json-incomplete' | 'text';

// The names common loggers use: pino/bunyan (`level`, `time`), winston (`level`, `timestamp`),
// Elastic Common Schema (`log.level`, `@timestamp`), Google/structlog (`severity`, `levelname`, `ts`).
const levelKeys = ['level', 'severity', 'levelname', 'lvl', 'log.level'] as const;
const timeKeys = ['time', 'timestamp', '@timestamp', 'ts', 'date', 'datetime'] as const;

function field(record: Record<string, unknown>, key: string): unknown {
  if (key in record) return record[key];
  // ECS nests `log.level` as `{ "log": { "level": … } }` as often as it dots it.
  const dot = key.indexOf('.');
  if (dot === -1) return undefined;
  const parent = record[key.slice(0, dot)];
  return typeof parent === 'object' && parent !== null
    ? (parent as Record<string, unknown>)[key.slice(dot + 1)]
    : undefined;
}

function isLevel(value: unknown): boolean {
  return (
    (typeof value === 'string' && value.trim() !== '') ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function isTimestamp(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0;
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

/**
 * Classifies one line of output (without its newline).
 *
 * @returns `structured` for a JSON object with a level (`level`, `severity`, `levelname`, `lvl`,
 * `log.level`) and a timestamp (`time`, `timestamp`, `@timestamp`, `ts`, `date`, `datetime`: epoch
 * number or a date string), `json-incomplete` for other JSON objects, `text` for anything else.
 * @example
 * ```ts
 * classifyLogLine('{"level":"info","time":1700000000000,"msg":"up"}'); // 'structured'
 * classifyLogLine('listening on 8080');                                 // 'text'
 * ```
 */
export function classifyLogLine(line: string): LogLineKind {
  const text = line.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) return 'text';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'text';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'text';
  const record = parsed as Record<string, unknown>;
  const hasLevel = levelKeys.some((key) => isLevel(field(record, key)));
  const hasTime = timeKeys.some((key) => isTimestamp(field(record, key)));
  return hasLevel && hasTime ? 'structured' : 'json-incomplete';
}
