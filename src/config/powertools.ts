import type { BootstrapOptions } from './options.js';

type Environment = Readonly<Record<string, string | undefined>>;

/** A Powertools for AWS Lambda variable the kit has an equivalent of, and does not read. */
interface PowertoolsVariable {
  /** The kit's variable or option that does what it did. */
  readonly use: string;
  /** True when the app set the kit's equivalent already: the Powertools variable is then left for
   * a Powertools utility the app still uses (Metrics reads the service name), and not warned of. */
  readonly given: (env: Environment, options: BootstrapOptions) => boolean;
}

/** Set: a string with more than white space in it, or any other value but `undefined`. */
const set = (value: unknown) => (typeof value === 'string' ? value.trim() !== '' : value !== undefined);

/**
 * The `POWERTOOLS_*` variables (Powertools for AWS Lambda, TypeScript) with an equivalent in the kit.
 * The kit does not read them, on purpose: a migrated app says what it means in the kit's own terms,
 * and a Powertools utility it still uses goes on reading them. Variables with no equivalent
 * (idempotency, AppConfig, `POWERTOOLS_TRACER_CAPTURE_RESPONSE`) are not listed.
 */
export const powertoolsVariables: Readonly<Record<string, PowertoolsVariable>> = Object.freeze({
  POWERTOOLS_SERVICE_NAME: {
    use: 'SERVICE_NAME',
    given: (env, o) => set(env.SERVICE_NAME) || set(o.service),
  },
  POWERTOOLS_LOG_LEVEL: { use: 'LOG_LEVEL', given: (env, o) => set(env.LOG_LEVEL) || set(o.logging?.level) },
  POWERTOOLS_LOGGER_SAMPLE_RATE: {
    use: 'logging.debugSampleRate',
    given: (_env, o) => set(o.logging?.debugSampleRate),
  },
  POWERTOOLS_LOGGER_LOG_EVENT: {
    use: 'logging.requests (a line per request, on by default)',
    given: (_env, o) => set(o.logging?.requests),
  },
  POWERTOOLS_DEV: { use: 'logging.pretty', given: (_env, o) => set(o.logging?.pretty) },
  POWERTOOLS_TRACE_ENABLED: {
    use: 'TRACING_MODE=off',
    given: (env, o) => set(env.TRACING_MODE) || set(o.tracing?.mode),
  },
  POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS: {
    use: 'tracing.httpClient and tracing.fetch',
    given: (_env, o) => set(o.tracing?.httpClient) || set(o.tracing?.fetch),
  },
  POWERTOOLS_METRICS_NAMESPACE: { use: 'metrics.namespace', given: (_env, o) => set(o.metrics?.namespace) },
  POWERTOOLS_METRICS_DISABLED: {
    use: 'metrics.enabled (metrics are off without the metrics option)',
    given: (_env, o) => set(o.metrics),
  },
  POWERTOOLS_PARAMETERS_MAX_AGE: {
    use: 'secretOptions.ttlMs (milliseconds; Powertools takes seconds)',
    given: (_env, o) => set(o.secretOptions?.ttlMs),
  },
});

/** A line to log at start. */
export interface StartWarning {
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/**
 * The one `warn` line for the `POWERTOOLS_*` variables set that the kit does not read, naming the
 * kit's equivalent of each; `undefined` when there are none, or the app set each equivalent.
 *
 * @example
 * ```ts
 * powertoolsWarning({ POWERTOOLS_SERVICE_NAME: 'notes-api' }, {})?.message;
 * // 'POWERTOOLS_SERVICE_NAME is set, and the kit does not read it: use SERVICE_NAME …'
 * ```
 */
export function powertoolsWarning(env: Environment, options: BootstrapOptions): StartWarning | undefined {
  const unread = Object.entries(powertoolsVariables).filter(
    ([name, variable]) => set(env[name]) && !variable.given(env, options),
  );
  if (unread.length === 0) return undefined;
  const names = unread.map(([name]) => name);
  const uses = unread.map(([name, { use }]) => `${use} for ${name}`);
  const them = unread.length === 1 ? 'it' : 'them';
  return {
    fields: { powertools: Object.fromEntries(unread.map(([name, { use }]) => [name, use])) },
    message: `${names.join(', ')} ${unread.length === 1 ? 'is' : 'are'} set, and the kit does not read ${them} (only Powertools does, where the app still uses it): use ${uses.join('; ')} (docs/migrating/powertools.md)`,
  };
}
