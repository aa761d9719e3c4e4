import { hostname } from 'node:os';
import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from '../config/environment.js';
import { getRequestContext } from '../http/context.js';

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Service name, a field of every line. */
  service: string;
  /**
   * Lowest level written.
   * @default 'info'
   */
  level?: LogLevel;
  /**
   * Where lines go.
   * @default stdout, written synchronously so that no line is lost at exit
   */
  destination?: DestinationStream;
}

/**
 * Builds the kit's pino logger: JSON lines on stdout, the level as a label, an ISO timestamp, the
 * service name, and the `requestId` of the request being handled on every line written inside one.
 *
 * @example
 * ```ts
 * const logger = createLogger({ service: 'notes-api' });
 * logger.info({ noteId }, 'note created');
 * ```
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service, pid: process.pid, hostname: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: requestFields,
    },
    destination,
  );
}

function requestFields(): Record<string, unknown> {
  const context = getRequestContext();
  return context === undefined ? {} : { requestId: context.requestId };
}
