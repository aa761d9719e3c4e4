import { parseEnum, parseIntegerText, parseName } from './parse.js';

/** The log levels the kit accepts, most severe first. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A pino log level name. */
export type LogLevel = (typeof logLevels)[number];

/** One environment variable the kit reads: how it is documented and how it is parsed. */
export interface EnvironmentVariable<T> {
  /** What the variable does, one sentence, Markdown allowed. */
  readonly description: string;
  /** The values accepted, as documented. */
  readonly accepted: string;
  /** The value used when the variable is unset or empty, as documented. */
  readonly default: string;
  /** Parses a non-empty raw value; throws the configuration error naming the variable. */
  readonly parse: (raw: string, name: string) => T;
}

function variable<T>(spec: EnvironmentVariable<T>): EnvironmentVariable<T> {
  return Object.freeze(spec);
}

/**
 * Every environment variable the kit reads. The config loader parses from this table and the
 * README's table of variables is rendered from it (`npm run docs:env`); a test keeps them in step.
 */
export const environmentSchema = Object.freeze({
  PORT: variable({
    description:
      'Port the server listens on, on all interfaces. App Runner sets it; `options.port` wins over it.',
    accepted: 'an integer from 1 to 65535',
    default: '8080',
    parse: (raw, name) => parseIntegerText(name, raw, 1, 65_535),
  }),
  LOG_LEVEL: variable({
    description: 'Lowest level written to stdout; `options.logging.level` wins over it.',
    accepted: logLevels.join(', '),
    default: 'info',
    parse: (raw, name) => parseEnum(name, raw.trim().toLowerCase(), logLevels),
  }),
  SERVICE_NAME: variable({
    description: 'Service name on every log line; `options.service` wins over it.',
    accepted: 'a string of at most 256 characters',
    default: '`OTEL_SERVICE_NAME`, else the `name` in `package.json` of the working directory',
    parse: (raw, name) => parseName(name, raw),
  }),
  SERVICE_VERSION: variable({
    description: 'Service version on every log line; `options.version` wins over it.',
    accepted: 'a string of at most 128 characters',
    default: 'the `version` in `package.json` of the working directory',
    parse: (raw, name) => parseName(name, raw, 128),
  }),
  AWS_REGION: variable({
    description: 'AWS region, on every log line; App Runner, ECS and the AWS SDK set or read it.',
    accepted: 'a region name such as `us-east-1`',
    default: '`AWS_DEFAULT_REGION`, else unset',
    parse: (raw, name) => parseName(name, raw, 64),
  }),
  AWS_DEFAULT_REGION: variable({
    description: 'AWS region when `AWS_REGION` is unset.',
    accepted: 'a region name such as `us-east-1`',
    default: 'unset',
    parse: (raw, name) => parseName(name, raw, 64),
  }),
  OTEL_SERVICE_NAME: variable({
    description: 'Service name when `SERVICE_NAME` is unset (the OpenTelemetry variable).',
    accepted: 'a string of at most 256 characters',
    default: 'unset',
    parse: (raw, name) => parseName(name, raw),
  }),
});

type Schema = typeof environmentSchema;

/** The parsed environment: each variable the kit reads, `undefined` when unset or empty. */
export type ParsedEnvironment = {
  readonly [K in keyof Schema]: ReturnType<Schema[K]['parse']> | undefined;
};

/** Parses every variable of {@link environmentSchema} from `env`; an empty value counts as unset. */
export function parseEnvironment(env: Readonly<Record<string, string | undefined>>): ParsedEnvironment {
  const parsed: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(environmentSchema) as [string, EnvironmentVariable<unknown>][]) {
    const raw = env[name];
    parsed[name] = raw === undefined || raw.trim() === '' ? undefined : spec.parse(raw, name);
  }
  return parsed as ParsedEnvironment;
}

/** Renders the README's Markdown table of environment variables from {@link environmentSchema}. */
export function renderEnvironmentTable(): string {
  const rows = Object.entries(environmentSchema).map(
    ([name, spec]) => `| \`${name}\` | ${spec.accepted} | ${spec.default} | ${spec.description} |`,
  );
  return [
    '| Variable | Accepted values | Default | What it does |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
