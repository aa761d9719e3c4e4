import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { invalid, parseIntegerText } from '../config/parse.js';
import { ConfigurationError } from '../errors.js';
import {
  appRunnerHealthDefaults,
  appRunnerHealthRange,
  appRunnerStartWindowS,
  type CheckOptions,
  checkDefaults,
} from './check-options.js';

/** What the command line asks for. */
export type CommandLine =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | {
      readonly kind: 'check';
      readonly options: CheckOptions;
      /** Print the report as JSON. */
      readonly json: boolean;
      /** Exit 1 on warnings too. */
      readonly strict: boolean;
    };

/** The help text of `apprunner-kit`. */
export const usage = `Usage: apprunner-kit check [options] -- <command> [args…]

Starts <command> the way AWS App Runner starts an instance — PORT set, a clean environment, stdin
closed, its own process group — and grades it: listens on all interfaces at $PORT, the health check,
the start window, the drain on SIGTERM under keep-alive load, JSON logs, files written to local disk.
Exits 0 when no check fails, 1 when one does, 2 on a usage error.

Options:
  --port <n>                 PORT given to the app, the port it must listen on (default 8080)
  --env KEY=VALUE            add a variable to the app's environment (repeatable); --env KEY copies
                             this shell's value. The app gets PATH, HOME, PORT and these only
  --cwd <dir>                working directory of the app, whose files are watched (default: here)
  --health-path <path>       HTTP health check on this path (default: TCP health check)
  --health-protocol <p>      tcp or http (http when --health-path is given; path "/" by default)
  --health-interval <s>      App Runner's interval, 1-20 (default 5)
  --health-timeout <s>       App Runner's timeout, 1-20 (default 2)
  --healthy-threshold <n>    passes in a row that make it healthy, 1-20 (default 1)
  --unhealthy-threshold <n>  failures in a row that make it unhealthy, 1-20 (default 5)
  --probe-interval <ms>      time between this run's checks once healthy (every 250 ms at most
                             while starting), 50 to the interval (default 1000)
  --health-samples <n>       checks once healthy, for latency figures, 1-20 (default 3)
  --start-timeout <s>        how long it may take to become healthy here (default 60; App Runner: 300)
  --grace <s>                SIGTERM to SIGKILL, in seconds (default 10)
  --connections <n>          keep-alive connections of the load, 1-32 (default 4)
  --requests <n>             requests of the load at most, 10-2000 (default 300)
  --load-path <path>         path the load requests (default /; any status counts as answered)
  --json                     print the report as JSON
  --strict                   exit 1 on warnings too
  -h, --help                 this help
  -v, --version              the version

Example:
  npx apprunner-kit check --health-path /healthz -- node server.js`;

const flags = {
  port: { type: 'string' },
  env: { type: 'string', multiple: true },
  cwd: { type: 'string' },
  'health-path': { type: 'string' },
  'health-protocol': { type: 'string' },
  'health-interval': { type: 'string' },
  'health-timeout': { type: 'string' },
  'healthy-threshold': { type: 'string' },
  'unhealthy-threshold': { type: 'string' },
  'probe-interval': { type: 'string' },
  'health-samples': { type: 'string' },
  'start-timeout': { type: 'string' },
  grace: { type: 'string' },
  connections: { type: 'string' },
  requests: { type: 'string' },
  'load-path': { type: 'string' },
  json: { type: 'boolean' },
  strict: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

function integer(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  return raw === undefined ? fallback : parseIntegerText(`--${flag}`, raw, min, max);
}

function secondsToMs(
  flag: string,
  raw: string | undefined,
  fallbackMs: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallbackMs;
  const n = /^\d{1,6}(\.\d{1,3})?$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (Number.isNaN(n) || n < min || n > max)
    invalid(`--${flag}`, raw, `a number of seconds from ${min} to ${max}`);
  return Math.round(n * 1000);
}

function path(flag: string, raw: string | undefined, fallback: string): string {
  if (raw === undefined) return fallback;
  if (!raw.startsWith('/') || /[\s\p{Cc}]/u.test(raw))
    invalid(`--${flag}`, raw, 'a path starting with "/", without spaces');
  return raw;
}

function environment(pairs: readonly string[], from: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      invalid('--env', pair, 'KEY=VALUE or KEY, KEY a variable name');
    if (name === 'PORT')
      throw new ConfigurationError('--env', 'Invalid --env PORT: set the port with --port.');
    if (eq === -1) {
      const value = from[name];
      if (value === undefined) {
        throw new ConfigurationError(
          '--env',
          `Invalid --env ${name}: it is not set in this shell; write --env ${name}=VALUE.`,
        );
      }
      env[name] = value;
    } else env[name] = pair.slice(eq + 1);
  }
  return env;
}

function directory(raw: string | undefined, base: string): string {
  const dir = resolve(base, raw ?? '.');
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) invalid('--cwd', raw ?? dir, 'an existing directory');
  return dir;
}

/**
 * What `parseArgs` refused, in a sentence of ours: its own messages suggest `--grace=-XYZ` for any
 * missing value and quote the option badly when positionals are allowed.
 */
function argumentProblem(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(error);
  const option = /'(--?[\w-]+)/.exec(text)?.[1];
  if (option !== undefined && code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option}`;
  if (option !== undefined && code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return text.includes('does not take an argument')
      ? `option ${option} takes no value`
      : `option ${option} needs a value, as in ${option} 30 (one starting with "-" is written ${option}=-1)`;
  }
  return text.split('\n')[0]!.replace(/\.+$/, '');
}

/**
 * Parses `apprunner-kit`'s arguments (without `node` and the script): the `check` command, its
 * options before `--`, the app's command after it. Validates every value once.
 *
 * @throws ConfigurationError (`ARK_CONFIG_INVALID`) naming the option, the value and what is accepted.
 * @example
 * ```ts
 * parseCommandLine(['check', '--port', '3000', '--', 'node', 'server.js']);
 * // { kind: 'check', options: { port: 3000, command: ['node', 'server.js'], … }, json: false, strict: false }
 * ```
 */
export function parseCommandLine(
  argv: readonly string[],
  context: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): CommandLine {
  const separator = argv.indexOf('--');
  const before = separator === -1 ? [...argv] : argv.slice(0, separator);
  const command = separator === -1 ? [] : argv.slice(separator + 1);
  let parsed: ReturnType<typeof parseArgs<{ options: typeof flags; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: before, options: flags, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ConfigurationError(
      'arguments',
      `${argumentProblem(error)}. The app's command goes after --; run apprunner-kit --help for the options.`,
      {
        cause: error,
      },
    );
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };
  const [subcommand, ...extra] = positionals;
  if (subcommand !== 'check') {
    throw new ConfigurationError(
      'command',
      subcommand === undefined
        ? 'No command given: apprunner-kit check [options] -- <command…>. Run apprunner-kit --help for the options.'
        : `Unknown command "${subcommand}": the only command is check. Run apprunner-kit --help.`,
    );
  }
  if (extra.length > 0 || command.length === 0) {
    throw new ConfigurationError(
      'command',
      `Put the app's command after --, e.g. apprunner-kit check -- node server.js${extra.length > 0 ? ` (got ${JSON.stringify(extra.join(' '))} before --)` : ''}.`,
    );
  }

  const range = appRunnerHealthRange;
  const pathGiven = values['health-path'];
  const protocolRaw = values['health-protocol'] ?? (pathGiven === undefined ? 'tcp' : 'http');
  if (protocolRaw !== 'tcp' && protocolRaw !== 'http')
    invalid('--health-protocol', protocolRaw, '"tcp" or "http"');
  if (protocolRaw === 'tcp' && pathGiven !== undefined) {
    throw new ConfigurationError(
      '--health-path',
      'Invalid --health-path with --health-protocol tcp: a TCP check has no path.',
    );
  }
  const intervalS = integer(
    'health-interval',
    values['health-interval'],
    appRunnerHealthDefaults.intervalS,
    range.min,
    range.max,
  );
  const health = Object.freeze({
    protocol: protocolRaw,
    path: path('health-path', pathGiven, '/'),
    intervalS,
    timeoutS: integer(
      'health-timeout',
      values['health-timeout'],
      appRunnerHealthDefaults.timeoutS,
      range.min,
      range.max,
    ),
    healthyThreshold: integer(
      'healthy-threshold',
      values['healthy-threshold'],
      appRunnerHealthDefaults.healthyThreshold,
      range.min,
      range.max,
    ),
    unhealthyThreshold: integer(
      'unhealthy-threshold',
      values['unhealthy-threshold'],
      appRunnerHealthDefaults.unhealthyThreshold,
      range.min,
      range.max,
    ),
  });
  const connections = integer('connections', values.connections, checkDefaults.load.connections, 1, 32);
  const requests = integer('requests', values.requests, checkDefaults.load.requests, 10, 2000);
  if (requests < connections * 4) {
    invalid(
      '--requests',
      values.requests,
      `at least 4 per connection (${connections * 4} with --connections ${connections})`,
    );
  }
  const options: CheckOptions = Object.freeze({
    command: Object.freeze([...command]),
    port: integer('port', values.port, checkDefaults.port, 1, 65535),
    env: Object.freeze(environment(values.env ?? [], context.env ?? process.env)),
    cwd: directory(values.cwd, context.cwd ?? process.cwd()),
    health,
    probeIntervalMs: integer(
      'probe-interval',
      values['probe-interval'],
      Math.min(checkDefaults.probeIntervalMs, intervalS * 1000),
      50,
      intervalS * 1000,
    ),
    healthSamples: integer('health-samples', values['health-samples'], checkDefaults.healthSamples, 1, 20),
    startTimeoutMs: secondsToMs(
      'start-timeout',
      values['start-timeout'],
      checkDefaults.startTimeoutMs,
      0.5,
      appRunnerStartWindowS,
    ),
    graceMs: secondsToMs('grace', values.grace, checkDefaults.graceMs, 0.1, 120),
    load: Object.freeze({
      connections,
      requests,
      path: path('load-path', values['load-path'], checkDefaults.load.path),
    }),
  });
  return { kind: 'check', options, json: values.json === true, strict: values.strict === true };
}
