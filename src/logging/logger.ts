import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import { type DestinationStream, type Logger, pino } from 'pino';
import { clusterWorkerId } from '../cluster/worker.js';
import { type LogLevel, parseVariables } from '../config/environment.js';
import { identityVariables, serviceIdentity } from '../config/identity.js';
import { loggingDefaults } from '../config/logging.js';
import { describeValue, isName, nameAccepted } from '../config/parse.js';
import { InvalidArgumentError } from '../errors.js';
import {
  currentSpanId,
  getMutableRequestContext,
  getRequestContext,
  noRequestFields,
  type RequestContext,
  runOutsideRequestContext,
} from '../http/context.js';
import { appDirectories, hintPretty, prettyDestination, redactingDestination } from './destination.js';
import { hasHeadFields, withoutHeadFields } from './head-fields.js';
import {
  flushHeldLines,
  flushWarning,
  holdingDestination,
  holdLine,
  holds,
  type LogBufferOptions,
  type LogBufferSettings,
  resolveLogBuffer,
  writeLine,
} from './held-lines.js';
import { isoTimeChunk } from './iso-time.js';
import {
  defaultMaxLineBytes,
  type MessageKey,
  maxMaxLineBytes,
  messageKeys,
  minMaxLineBytes,
} from './line-limit.js';
import { redactedText, redaction } from './redaction.js';
import { guarded, type LogMethodHook } from './safe-call.js';
import { serializeError, serializeErrorField, serializeRequest, serializeResponse } from './serializers.js';
import { processStdout, StdoutDestination } from './stdout-destination.js';
import { withTrailingArguments } from './trailing-arguments.js';

/**
 * Headers whose values never reach a log line, in a `headers` object logged at the top of a line, under
 * `req`, `request`, `res` or `response`, or in an error's `config` (an HTTP client's request; its raw
 * request head, `err.request._header`, is censored whole); in lower case and as usually capitalised
 * (`Authorization`, `X-API-Key`).
 */
export const redactedHeaders = [
  'authorization',
  'cookie',
  'set-cookie',
  'proxy-authorization',
  'x-api-key',
] as const;

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /**
   * Service name, a field of every line.
   * @default `SERVICE_NAME`, else `OTEL_SERVICE_NAME`, else `service.name` in
   * `OTEL_RESOURCE_ATTRIBUTES`, else the `name` in `package.json` of the working directory, else
   * `'app'` (as `bootstrapAppRunner`)
   */
  service?: string | undefined;
  /**
   * Service version, a field of every line when known.
   * @default `SERVICE_VERSION`, else `service.version` in `OTEL_RESOURCE_ATTRIBUTES`, else the
   * `version` in `package.json` of the working directory
   */
  version?: string | undefined;
  /**
   * AWS region, a field of every line when known.
   * @default `AWS_REGION`, else `AWS_DEFAULT_REGION`
   */
  region?: string | undefined;
  /**
   * Instance name, a field of every line. In a `node:cluster` worker, a `worker` field (the
   * worker's `cluster.worker.id`) follows it on every line.
   * @default the host name (on App Runner and Fargate, the task's)
   */
  instance?: string | undefined;
  /**
   * Lowest level written.
   * @default `LOG_LEVEL`, else `'info'`
   */
  level?: LogLevel | undefined;
  /**
   * Where lines go.
   * @default stdout, asynchronously (flushed on shutdown and exit)
   */
  destination?: DestinationStream | undefined;
  /** More paths to censor, in pino's `redact` syntax (`user.password`, `*.token`). */
  redact?: readonly string[] | undefined;
  /**
   * Share of requests, 0 to 1, logged at `debug` whatever `level` says.
   * @default 0
   */
  debugSampleRate?: number | undefined;
  /**
   * Requests logged at `debug` whatever `level` says, picked as they arrive: as the kit's
   * `logging.debugRequests`, which this logger's setting becomes once the kit writes through it.
   * @default none: no request is picked
   */
  debugRequests?: ((req: IncomingMessage) => boolean) | undefined;
  /**
   * Human-readable output through `pino-pretty`: `'auto'` uses it when stdout is a terminal and the
   * app has `pino-pretty` installed, never on a pipe.
   * @default 'auto'
   */
  pretty?: boolean | 'auto' | undefined;
  /**
   * Longest line written, in bytes: a longer one has its longest values cut until it fits, and says
   * so (`"truncated":true,"lineBytes":<its size>`), so that it stays one valid JSON event.
   * @default 16000 (under Docker's 16 KiB split)
   */
  maxLineBytes?: number | undefined;
  /**
   * Log buffering: `true` (or options) holds back the `debug` lines (and below) of each request that
   * `level` leaves out, and writes them only if it fails, logs an `error` line, or calls
   * `flushRequestLogs()`; see {@link LogBufferOptions}. Off when `level` is `'silent'`.
   * @default false
   */
  buffer?: boolean | LogBufferOptions | undefined;
  /**
   * The key of a line's message: `'message'` for the shape that Powertools Logger, ECS and Datadog
   * write (their queries, dashboards and metric filters read `message`), `'msg'` as pino writes it.
   * @default 'msg'
   */
  messageKey?: MessageKey | undefined;
}

/** Where a logged `headers` object is looked for; explicit paths, because pino's wildcard paths cost
 * about 12 µs per line (measured) against 0.2 µs for these (0.2 µs for all of them: the names in both
 * cases and the error parents cost nothing measurable more). `err.config.headers` and
 * `err.response.headers`: the request and response an HTTP client's error carries (axios). */
const redactedHeaderParents = [
  'headers',
  'req.headers',
  'request.headers',
  'res.headers',
  'response.headers',
  'err.config.headers',
  'error.config.headers',
  'err.response.headers',
  'error.response.headers',
];
/** The request an HTTP client's error carries, its headers as they were written (axios's `err.request`). */
const redactedRawHeaders = ['err.request._header', 'error.request._header'];
/** As Node writes them (lower case) and as apps and HTTP clients write them. */
const redactedHeaderNames = [
  ...redactedHeaders,
  'Authorization',
  'Cookie',
  'Set-Cookie',
  'Proxy-Authorization',
  'X-Api-Key',
  'X-API-Key',
];
const headerPaths = [
  ...redactedHeaderNames.flatMap((h) => redactedHeaderParents.map((parent) => `${parent}["${h}"]`)),
  ...redactedRawHeaders,
];

/** Requests, responses and errors logged whole: see each serializer. */
const kitSerializers = {
  err: serializeError,
  error: serializeErrorField,
  req: serializeRequest,
  request: serializeRequest,
  res: serializeResponse,
  response: serializeResponse,
};

const noFields = Object.freeze({});

/**
 * The `requestId` a child was bound to (`logger.child({ requestId })`, Fastify's request logger with
 * `requestIdLogLabel: 'requestId'`), which its children inherit: when it is the request's, the line
 * carries it once, not again from the request context.
 */
const boundRequestIdSlot = Symbol('apprunner-kit.boundRequestId');

type MarkedLogger = Logger & { [boundRequestIdSlot]?: unknown };

/**
 * Marks the fields of a line that carries its request's context itself (the request line, written by
 * pino when it has an `err`): the mixin adds nothing to it. A symbol, which pino does not write.
 */
export const carriesContextSlot: unique symbol = Symbol.for('apprunner-kit.carriesContext');

// The mixin runs for every line. Outside a request it returns one frozen empty object, which the merge
// strategy below recognises, so that the line's own fields are not copied for nothing. A line's own
// field of the same name (an app's `requestId` of another system) wins, and the rest still comes.
function contextFields(
  lineFields: { [carriesContextSlot]?: true },
  _level: number,
  logger: MarkedLogger,
): object {
  if (lineFields[carriesContextSlot] === true) return noFields;
  const context = getRequestContext();
  if (context === undefined) return noFields;
  if (logger[boundRequestIdSlot] === context.requestId) {
    // Bound to the request's id already: the rest of the context (untraced and without fields, none).
    if (context.traceId === undefined && context.fields === noRequestFields) return noFields;
    return withSpanAndFields(context.traceId === undefined ? {} : { traceId: context.traceId }, context);
  }
  return withSpanAndFields(
    context.traceId === undefined
      ? { requestId: context.requestId }
      : { requestId: context.requestId, traceId: context.traceId },
    context,
  );
}

/** `fields` with the context's current `spanId` (of a sampled trace) and the request's fields. */
function withSpanAndFields(fields: Record<string, unknown>, context: RequestContext): object {
  const spanId = currentSpanId(context);
  if (spanId !== undefined) fields.spanId = spanId;
  return context.fields === noRequestFields ? fields : Object.assign(fields, context.fields);
}

/** pino's `timestamp` option: the time chunk of now (called with no argument). */
function isoTimeNow(): string {
  return isoTimeChunk();
}

function mergeContext(lineFields: object, context: object): object {
  const fields = hasHeadFields(lineFields) ? withoutHeadFields(lineFields) : lineFields;
  return context === noFields ? fields : Object.assign(context, fields);
}

/**
 * Writes one line exactly as the kit's logger would write `logger[level](fields, message)`, from
 * fields already serialised (`,"name":value…`, each preceded by a comma). The request line's fast
 * path: pino's generic serialisation of a dozen fields costs more than the rest of the line.
 */
export type RawLineWriter = (level: LogLevel, fields: string, message: string) => void;

const rawWriters = new WeakMap<Logger, RawLineWriter>();

/**
 * The raw writer of a logger built by {@link createLogger}; `undefined` for any other logger, and
 * for one whose options change what a line holds in ways a raw writer cannot follow (extra `redact`
 * paths, debug sampling).
 */
export function rawLineWriter(logger: Logger): RawLineWriter | undefined {
  return rawWriters.get(logger);
}

/**
 * Builds the kit's pino logger: JSON lines on stdout with the level as a label, an ISO timestamp,
 * `service`, `version`, `instance` and `region`; `requestId`, `traceId`, `spanId` (sampled traces)
 * and the fields of {@link addRequestFields} on every line written inside a request; sensitive
 * headers censored and registered secret values masked. What `options` leaves out is read from the
 * environment as `bootstrapAppRunner` reads it (`LOG_LEVEL`, `SERVICE_NAME`, `SERVICE_VERSION`,
 * `AWS_REGION`).
 *
 * It, its children and Fastify's `request.log` write what pino would drop after a message's
 * placeholders: `logger.error('payment failed', err)` writes the error under `err`, as
 * `logger.error({ err }, 'payment failed')` does; a plain object's fields join the line, any other
 * value goes under `extra`.
 *
 * Give it to a framework at construction (Fastify's `loggerInstance`): `bootstrapAppRunner({ app })`
 * then writes the kit's own lines through it too and takes its settings, so that the app has one
 * logger, unless a `logging` option given to `bootstrapAppRunner` disagrees with them (it says which).
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createLogger } from 'apprunner-kit';
 *
 * const fastify = Fastify({ loggerInstance: createLogger() });
 * ```
 *
 * @throws InvalidArgumentError (`ARK_ARGUMENT_INVALID`) when `service` or `version` is not a name,
 * `maxLineBytes` is not an integer from 1,024 to 262,144, `debugSampleRate` is not from 0 to 1,
 * `messageKey` is neither `'msg'` nor `'message'`, or `buffer` is not valid.
 * @throws ConfigurationError (`ARK_CONFIG_INVALID`) when a variable it reads (`LOG_LEVEL`, …) is not
 * valid.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const env = parseVariables(process.env, ['LOG_LEVEL', ...identityVariables]);
  const identity = serviceIdentity(
    {
      service: nameArgument('service', options.service, 256),
      version: nameArgument('version', options.version, 128),
    },
    env,
    process.cwd(),
  );
  return buildLogger({
    ...options,
    service: identity.service,
    ...(identity.version === undefined ? {} : { version: identity.version }),
    ...(options.region === undefined && identity.region !== undefined ? { region: identity.region } : {}),
    level: options.level ?? env.LOG_LEVEL ?? loggingDefaults.level,
  });
}

/** A name option of {@link createLogger}, trimmed, as the config takes `service` and `version`. */
function nameArgument(field: string, value: unknown, maxLength: number): string | undefined {
  if (value === undefined) return undefined;
  if (!isName(value, maxLength)) refuseArgument(`createLogger: ${field}`, value, nameAccepted(maxLength));
  return value.trim();
}

/** What a logger of {@link buildLogger} was built with, kept on it for the kit to compare. */
export interface KitLoggerSettings {
  /** The logger built (the root of the loggers that share these settings). */
  readonly logger: Logger;
  /** The base fields of its lines. */
  readonly service: string;
  readonly version: string | undefined;
  readonly region: string | undefined;
  /** The configured level (pino may run below it to sample or hold lines). */
  readonly level: LogLevel;
  /** The paths censored beside the kit's own. */
  readonly redact: readonly string[];
  readonly debugSampleRate: number;
  readonly debugRequests: ((req: IncomingMessage) => boolean) | undefined;
  /** `buffer` as given (`false` when not). */
  readonly buffer: boolean | LogBufferOptions;
  readonly maxLineBytes: number;
  readonly pretty: boolean | 'auto';
  readonly messageKey: MessageKey;
  /** The destination given, if any. */
  readonly destination: DestinationStream | undefined;
}

/** Versioned: another installed version of the kit may keep another shape there. */
const settingsSlot: unique symbol = Symbol.for('apprunner-kit.loggerSettings.v1');

/**
 * The settings of `value` when it is a logger the kit built, or a child of one (Fastify's
 * `fastify.log`); `undefined` for anything else.
 */
export function kitLoggerSettings(value: unknown): KitLoggerSettings | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return (value as { [settingsSlot]?: KitLoggerSettings })[settingsSlot];
}

/**
 * {@link createLogger} with every identity field resolved: how `bootstrapAppRunner` builds its
 * logger from its config, reading no environment of its own.
 */
export function buildLogger(options: CreateLoggerOptions & { readonly service: string }): Logger {
  const level = options.level ?? loggingDefaults.level;
  const sampleRate = options.debugSampleRate ?? 0;
  if (!(typeof sampleRate === 'number' && sampleRate >= 0 && sampleRate <= 1)) {
    refuseArgument(
      'createLogger: debugSampleRate',
      sampleRate,
      'a number from 0 to 1 (the share of requests logged at debug)',
    );
  }
  const { maxLineBytes } = options;
  if (
    maxLineBytes !== undefined &&
    !(Number.isInteger(maxLineBytes) && maxLineBytes >= minMaxLineBytes && maxLineBytes <= maxMaxLineBytes)
  ) {
    refuseArgument(
      'createLogger: maxLineBytes',
      maxLineBytes,
      `an integer from ${minMaxLineBytes} to ${maxMaxLineBytes} (bytes; the default is ${defaultMaxLineBytes})`,
    );
  }
  const messageKey = options.messageKey ?? 'msg';
  if (!messageKeys.includes(messageKey)) {
    refuseArgument('createLogger: messageKey', messageKey, "'msg' or 'message'");
  }
  const pretty =
    options.destination === undefined
      ? prettyDestination(
          options.pretty ?? 'auto',
          process.stdout.isTTY === true,
          appDirectories(process.argv[1], process.cwd()),
          messageKey,
        )
      : undefined;
  const destination = options.destination ?? pretty?.destination ?? processStdout();
  const base: Record<string, string | number> = { service: options.service };
  if (options.version !== undefined) base.version = options.version;
  base.instance = options.instance ?? hostname();
  // The workers of a node:cluster primary share the instance: their lines say which worker wrote them.
  const worker = clusterWorkerId();
  if (worker !== undefined) base.worker = worker;
  if (options.region !== undefined) base.region = options.region;

  // Requests picked for debug lines (debugSampleRate, debugRequests): pino runs at `debug` at most,
  // and lines below the configured level are dropped unless the request was picked. Log buffering:
  // it runs at `trace`, and the lines of a request that the level leaves out are held, up to the
  // buffer's level. Only when one is on: otherwise pino's own level check turns disabled levels
  // into no-ops.
  const { debugRequests } = options;
  if (debugRequests !== undefined && typeof debugRequests !== 'function') {
    refuseArgument('createLogger: debugRequests', debugRequests, 'a function (req) => boolean');
  }
  const picking = (sampleRate > 0 || debugRequests !== undefined) && level !== 'silent';
  const threshold = level === 'silent' ? Number.POSITIVE_INFINITY : pino.levels.values[level]!;
  const bufferSettings = resolveLogBuffer(options.buffer, 'createLogger: buffer', refuseArgument);
  const buffer = level === 'silent' ? undefined : bufferSettings;
  const gate: Gate | undefined = picking || buffer !== undefined ? { threshold, picks: picking } : undefined;

  const out = redactingDestination(destination, redaction, maxLineBytes, messageKey);
  const logger = pino(
    {
      level: buffer !== undefined ? 'trace' : picking && threshold > debugLevel ? 'debug' : level,
      base,
      messageKey,
      timestamp: isoTimeNow,
      formatters: { level: (label) => ({ level: label }) },
      mixin: contextFields,
      mixinMergeStrategy: mergeContext,
      serializers: kitSerializers,
      redact: { paths: [...headerPaths, ...(options.redact ?? [])], censor: redactedText },
      // One hook (pino takes one), which children inherit: Fastify's `request.log` too.
      hooks: { logMethod: gate === undefined ? trailingArgumentsKept : lineGate(gate, buffer) },
    },
    buffer === undefined ? out : holdingDestination(out),
  );
  if (destination instanceof StdoutDestination && threshold <= pino.levels.values.error!) {
    // Lines dropped while stdout took nothing for 64 MiB: said once the backlog is written, outside
    // the request whose line happened to start the write. Not by a logger that writes no errors.
    destination.onDropped = (count) =>
      runOutsideRequestContext(() =>
        logger.error({ linesDropped: count }, 'log lines dropped: stdout took none while 64 MiB waited'),
      );
  }
  const childLevel = gate === undefined ? undefined : watchLevels(logger, gate);
  watchChildren(logger, (made, parent, bindings, options) => {
    const requestId = (bindings as { requestId?: unknown } | null | undefined)?.requestId;
    if (requestId !== undefined) (made as MarkedLogger)[boundRequestIdSlot] = requestId;
    childLevel?.(made as GatedLogger, parent as GatedLogger, options);
  });
  const settings: KitLoggerSettings = {
    logger,
    service: options.service,
    version: options.version,
    region: options.region,
    level,
    redact: Object.freeze([...(options.redact ?? [])]),
    debugSampleRate: sampleRate,
    debugRequests,
    buffer:
      typeof options.buffer === 'object' ? Object.freeze({ ...options.buffer }) : (options.buffer ?? false),
    maxLineBytes: maxLineBytes ?? defaultMaxLineBytes,
    pretty: options.pretty ?? 'auto',
    messageKey,
    destination: options.destination,
  };
  // Children (pino's are made from their parent's prototype) read it too.
  Object.defineProperty(logger, settingsSlot, { value: Object.freeze(settings) });
  const bindings = (logger as unknown as Record<symbol, unknown>)[pino.symbols.chindingsSym];
  if (!picking && (options.redact ?? []).length === 0 && typeof bindings === 'string') {
    const messageChunk = `,"${messageKey}":`;
    rawWriters.set(logger, (lineLevel, fields, message) => {
      // pino runs at `trace` while lines are held: the configured level is the kit's to apply.
      if (buffer !== undefined && !writesLevel(logger, lineLevel)) return;
      out.write(
        `{"level":"${lineLevel}"${isoTimeChunk()}${bindings}${fields}${messageChunk}${jsonString(message)}}\n`,
      );
    });
  }
  if (pretty?.missing === true) hintPretty(logger);
  return logger;
}

type ChildOptions = Parameters<Logger['child']>[1];

/**
 * Wraps `child` on the root, which its children inherit: `onChild` sees each child made in the tree
 * (Fastify makes one per request), with its parent and what it was made with.
 */
function watchChildren(
  logger: Logger,
  onChild: (made: Logger, parent: Logger, bindings: unknown, options: ChildOptions) => void,
): void {
  const child = logger.child;
  logger.child = function watchedChild(this: Logger, ...args: Parameters<Logger['child']>) {
    // A bound `time` was written after the line's own, a bound `level` dropped by pino in silence.
    if (hasHeadFields(args[0])) args[0] = withoutHeadFields(args[0]);
    const made = child.apply(this, args) as unknown as Logger;
    onChild(made, this, args[0], args[1]);
    return made;
  } as unknown as Logger['child'];
}

/** pino's number of `debug`. */
const debugLevel = pino.levels.values.debug!;

/** The configured level, of a logger that runs pino below it to pick or hold lines. */
interface Gate {
  readonly threshold: number;
  /** Whether requests may be picked for their `debug` lines: pino then never runs above `debug`. */
  readonly picks: boolean;
}

/** Where a gated logger keeps its gate: on the root, so that its children (Fastify's) read it too. */
const gateSlot: unique symbol = Symbol.for('apprunner-kit.gate.v2');
/**
 * The level set on a logger since it was made (a child's own, `logger.level = …`), as pino's
 * number; pino itself runs at `debug` when that is higher and requests may be picked.
 */
const levelSetSlot: unique symbol = Symbol.for('apprunner-kit.levelSet.v2');

type GatedLogger = Logger & { [gateSlot]?: Gate; [levelSetSlot]?: number };

/** The property `name` of `target` or of its prototypes, as defined where it is. */
function propertyOf(target: object, name: string): PropertyDescriptor | undefined {
  for (let o: object | null = target; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(o, name);
    if (descriptor !== undefined) return descriptor;
  }
  return undefined;
}

/**
 * Keeps `gate` on `logger`, and records on a logger of its tree the level set since: by
 * `logger.level = …`, wrapped on the root, which its children inherit, or by
 * `child(bindings, { level })` (Fastify's route `logLevel`), through the hook returned for the
 * root's `child` wrapper. pino's own level changes (a child made with `customLevels`) set nothing.
 * While requests may be picked, pino keeps running at `debug` under a higher level set, so that a
 * picked request's `debug` lines still reach the gate; `level` reads the level set.
 */
function watchLevels(
  logger: Logger,
  gate: Gate,
): ((made: GatedLogger, parent: GatedLogger, options: ChildOptions) => void) | undefined {
  const gated = logger as GatedLogger;
  gated[gateSlot] = gate;
  const level = propertyOf(logger, 'level');
  if (level?.get === undefined || level.set === undefined) return undefined;
  const { get, set } = level;
  const record = (target: GatedLogger, wanted: number) => {
    target[levelSetSlot] = wanted;
    if (
      gate.picks &&
      wanted > debugLevel &&
      wanted !== Number.POSITIVE_INFINITY &&
      target.levelVal !== debugLevel &&
      'debug' in target.levels.values
    )
      set.call(target, 'debug');
  };
  Object.defineProperty(logger, 'level', {
    configurable: true,
    enumerable: level.enumerable ?? false,
    get(this: GatedLogger) {
      const wanted = this[levelSetSlot];
      return wanted === undefined ? get.call(this) : (this.levels.labels[wanted] ?? get.call(this));
    },
    set(this: GatedLogger, value: unknown) {
      set.call(this, value); // pino checks the level
      record(this, this.levelVal);
    },
  });
  return (made, parent, options) => {
    // Fastify before 5.12 passes `level: ''` for a route without `logLevel`: pino inherits then.
    const asked = options?.level === '' ? undefined : options?.level;
    if (asked !== undefined) record(made, made.levels.values[asked] ?? made.levelVal);
    // pino sets a child made with customLevels to its parent's level as the parent reads it: the
    // level set, which must not become pino's own while requests may be picked.
    else if (options?.customLevels !== undefined && parent[levelSetSlot] !== undefined)
      record(made, parent[levelSetSlot]);
  };
}

/**
 * The level applied to a line of `logger`: its own once set since (a child's own level, Fastify's
 * route `logLevel`, `logger.level = …` at run time), else the configured one. A child inherits its
 * parent's, as it inherits its level.
 */
function appliedLevel(gate: Gate, logger: Logger): number {
  return (logger as GatedLogger)[levelSetSlot] ?? gate.threshold;
}

/**
 * Whether `logger` writes a line at `level` as such (outside a request picked by debug sampling):
 * pino's answer, except for a logger of {@link createLogger} that runs below its configured level to
 * sample or hold lines, whose level was not set since: then the configured level's.
 */
export function writesLevel(logger: Logger, level: LogLevel): boolean {
  if (!logger.isLevelEnabled(level)) return false;
  const gate = (logger as GatedLogger)[gateSlot];
  return gate === undefined || pino.levels.values[level]! >= appliedLevel(gate, logger);
}

function refuseArgument(field: string, value: unknown, accepted: string): never {
  throw new InvalidArgumentError(`${field} ${describeValue(value)} is not valid: expected ${accepted}.`);
}

/**
 * pino's `logMethod` hook of a logger that neither samples nor holds lines: the arguments pino would
 * drop (`logger.error('msg', err)`) reach the line ({@link withTrailingArguments}).
 */
const trailingArgumentsKept: LogMethodHook = guarded(function logMethod(this: Logger, args, method) {
  method.apply(this, withTrailingArguments(this, args));
});

/**
 * pino's `logMethod` hook while debug sampling or log buffering is on, which run pino below the
 * configured level (at `debug`, or `trace` to hold lines): decides, before a line is serialised,
 * whether it is written, held for its request, or dropped ({@link appliedLevel} says which level
 * applies). A line written or held keeps the arguments pino would drop, as
 * {@link trailingArgumentsKept} does; a dropped one is not looked at.
 */
function lineGate(gate: Gate, buffer: LogBufferSettings | undefined): LogMethodHook {
  const debug = pino.levels.values.debug!;
  const error = pino.levels.values.error!;
  return guarded(function logMethod(this: Logger, args, method, numeric) {
    if (numeric >= appliedLevel(gate, this)) {
      if (buffer === undefined) {
        method.apply(this, withTrailingArguments(this, args));
        return;
      }
      if (numeric >= error && buffer.flushOnError) {
        const context = getMutableRequestContext();
        if (context !== undefined) flushHeldLines(context);
      }
      writeLine(this, method, withTrailingArguments(this, args));
      return;
    }
    const context = getMutableRequestContext();
    if (buffer === undefined) {
      // A request picked by debug sampling writes its debug lines as they come.
      if (numeric >= debug && context?.debugSampled === true)
        method.apply(this, withTrailingArguments(this, args));
      return;
    }
    if (flushWarning() || (numeric >= debug && context?.debugSampled === true))
      writeLine(this, method, withTrailingArguments(this, args));
    // What the configured level leaves out, up to the buffer's level, is held; not below a level set
    // since, which applies as it is.
    else if (
      context !== undefined &&
      numeric <= buffer.threshold &&
      (this as GatedLogger)[levelSetSlot] === undefined &&
      holds(context)
    )
      holdLine(context, this, buffer.maxBytes, method, withTrailingArguments(this, args));
  });
}

/**
 * Whether `value` goes into a JSON string as it is: no control character, quote, backslash or
 * surrogate (JSON.stringify escapes lone ones). A loop, because the short values of a request line
 * are checked faster than by a pattern.
 */
export function isJsonSafe(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) return false;
  }
  return true;
}

/** `value` as a JSON string: quoted as it is when nothing needs escaping, else by JSON.stringify. */
export function jsonString(value: string): string {
  return isJsonSafe(value) ? `"${value}"` : JSON.stringify(value);
}
