import type { IncomingMessage } from 'node:http';
import type { DestinationStream, Logger } from 'pino';
import { type LogBufferOptions, resolveLogBuffer } from '../logging/held-lines.js';
import {
  defaultMaxLineBytes,
  type MessageKey,
  maxMaxLineBytes,
  messageKeys,
  minMaxLineBytes,
} from '../logging/line-limit.js';
import type { RequestLevels } from '../logging/request-line.js';
import { type LogLevel, logLevels, type ParsedEnvironment } from './environment.js';
import {
  invalid,
  optional,
  parseBoolean,
  parseEnum,
  parseInteger,
  parseName,
  parseSection,
} from './parse.js';

/** The validated `logging` settings. */
export interface LoggingConfig {
  readonly level: LogLevel;
  readonly requests: boolean;
  readonly requestLevels: RequestLevels;
  readonly query: boolean;
  readonly healthRequests: boolean;
  readonly redact: readonly string[];
  readonly debugSampleRate: number;
  /** `logging.debugRequests` as given. */
  readonly debugRequests: ((req: IncomingMessage) => boolean) | undefined;
  readonly pretty: boolean | 'auto';
  readonly maxLineBytes: number;
  readonly messageKey: MessageKey;
  /** Lower case; `false`: no echo, no forwarding (the id is still adopted from `x-request-id`). */
  readonly requestIdHeader: string | false;
  /** Log buffering as given, validated (`false` when off). */
  readonly buffer: boolean | Readonly<LogBufferOptions>;
}

/** The `logging` section: its settings, and the logger and destination given (not copied). */
export interface ParsedLogging {
  readonly config: LoggingConfig;
  readonly logger: Logger | undefined;
  readonly destination: DestinationStream | undefined;
}

/** The documented defaults of the `logging` option. */
export const loggingDefaults = Object.freeze({
  level: 'info' as LogLevel,
  requestLevels: Object.freeze({
    success: 'info',
    clientError: 'info',
    serverError: 'error',
    aborted: 'warn',
  } satisfies RequestLevels),
});

/** Headers that must not carry the request id: credentials, trace context, message framing. */
const reservedIdHeaders =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|x-amzn-trace-id|traceparent|tracestate|baggage|host|connection|keep-alive|proxy-connection|te|trailer|transfer-encoding|upgrade|content-length|content-type|content-encoding)$/i;

const level = (field: string) => (value: unknown) => parseEnum(field, value, logLevels);

/** A request id header name (RFC 9110 token), lower case, or `false`. */
function parseRequestIdHeader(value: unknown): string | false {
  // Not one that carries something else: a credential (it would be logged on every line, echoed, and
  // sent to every host called), a trace header, or one that frames the message.
  if (
    value !== false &&
    (typeof value !== 'string' ||
      !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/.test(value) ||
      reservedIdHeaders.test(value))
  ) {
    invalid(
      'logging.requestIdHeader',
      value,
      "a header name such as 'x-request-id' or 'x-correlation-id', or false to neither echo nor forward the id",
    );
  }
  return value === false ? false : value.toLowerCase();
}

/**
 * Validates the `logging` option (with `LOG_LEVEL` from `env`) into its settings. Precedence: option
 * > environment variable > default.
 *
 * @throws ConfigurationError (`ARK_CONFIG_INVALID`) naming the field, the value and what is accepted.
 */
export function parseLoggingConfig(value: unknown, env: ParsedEnvironment): ParsedLogging {
  const logging = parseSection('logging', value, [
    'level',
    'requests',
    'requestLevels',
    'query',
    'healthRequests',
    'redact',
    'debugSampleRate',
    'debugRequests',
    'pretty',
    'maxLineBytes',
    'messageKey',
    'buffer',
    'requestIdHeader',
    'logger',
    'destination',
  ]);
  const requestLevels = parseSection('logging.requestLevels', logging.requestLevels, [
    'success',
    'clientError',
    'serverError',
    'aborted',
  ]);
  const logger = logging.logger;
  if (
    logger !== undefined &&
    (typeof logger !== 'object' || logger === null || typeof (logger as Logger).child !== 'function')
  ) {
    invalid('logging.logger', logger, 'a pino logger');
  }
  const destination = logging.destination;
  if (destination !== undefined && typeof (destination as { write?: unknown }).write !== 'function') {
    invalid('logging.destination', destination, 'a stream with a write(line) method');
  }
  const outcomeLevel = (outcome: keyof RequestLevels) =>
    optional(requestLevels[outcome], level(`logging.requestLevels.${outcome}`)) ??
    loggingDefaults.requestLevels[outcome];
  const config: LoggingConfig = {
    level: optional(logging.level, level('logging.level')) ?? env.LOG_LEVEL ?? loggingDefaults.level,
    requests: optional(logging.requests, (v) => parseBoolean('logging.requests', v)) ?? true,
    requestLevels: {
      success: outcomeLevel('success'),
      clientError: outcomeLevel('clientError'),
      serverError: outcomeLevel('serverError'),
      aborted: outcomeLevel('aborted'),
    },
    query: optional(logging.query, (v) => parseBoolean('logging.query', v)) ?? false,
    healthRequests:
      optional(logging.healthRequests, (v) => parseBoolean('logging.healthRequests', v)) ?? false,
    redact:
      optional(logging.redact, (v) => {
        if (!Array.isArray(v)) invalid('logging.redact', v, 'an array of paths such as "user.password"');
        return v.map((path, i) => parseName(`logging.redact[${i}]`, path));
      }) ?? [],
    debugSampleRate:
      optional(logging.debugSampleRate, (v) => {
        if (typeof v !== 'number' || !(v >= 0 && v <= 1))
          invalid('logging.debugSampleRate', v, 'a number from 0 to 1');
        return v;
      }) ?? 0,
    debugRequests: optional(logging.debugRequests, (v) => {
      if (typeof v !== 'function')
        invalid('logging.debugRequests', v, 'a function (req) => boolean, answered as each request arrives');
      return v as (req: IncomingMessage) => boolean;
    }),
    pretty:
      optional(logging.pretty, (v) => {
        if (v !== 'auto' && typeof v !== 'boolean') invalid('logging.pretty', v, "true, false or 'auto'");
        return v;
      }) ?? 'auto',
    maxLineBytes:
      optional(logging.maxLineBytes, (v) =>
        parseInteger('logging.maxLineBytes', v, minMaxLineBytes, maxMaxLineBytes),
      ) ?? defaultMaxLineBytes,
    messageKey: optional(logging.messageKey, (v) => parseEnum('logging.messageKey', v, messageKeys)) ?? 'msg',
    requestIdHeader: optional(logging.requestIdHeader, parseRequestIdHeader) ?? 'x-request-id',
    buffer:
      resolveLogBuffer(logging.buffer, 'logging.buffer', invalid) === undefined
        ? false
        : typeof logging.buffer === 'object'
          ? Object.freeze({ ...(logging.buffer as LogBufferOptions) })
          : true,
  };
  return {
    config,
    logger: logger as Logger | undefined,
    destination: destination as DestinationStream | undefined,
  };
}
