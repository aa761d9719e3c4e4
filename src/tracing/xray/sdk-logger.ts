import { format } from 'node:util';
import type { Logger } from 'pino';
import { writesLevel } from '../../logging/logger.js';
import type { DaemonStatus } from './daemon-status.js';

/** The logger interface of `aws-xray-sdk-core` (`AWSXRay.setLogger`). */
export interface SdkLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

const samplingFailure = /^Failed to retrieve sampling (?:rules|targets)/;
const samplingSuccess =
  /^Successfully (?:refreshed centralized sampling rule cache|reported rule statistics)/;
/** Distinct warnings logged; past that, the SDK's further warnings go to debug. */
const maxDistinctWarnings = 20;

/**
 * The SDK's log calls as JSON lines of the kit's logger, so stdout stays machine-readable. Its
 * debug and info calls (one per request when no centralized rule matches yet) go to `debug`.
 * Its sampling-poll failures and successes feed {@link DaemonStatus}, logged once per outage. Any
 * other warning or error is logged once per distinct message, as a warning.
 *
 * @example
 * ```ts
 * AWSXRay.setLogger(sdkLogger(logger, status));
 * ```
 */
export function sdkLogger(logger: Logger, status: DaemonStatus): SdkLogger {
  const seen = new Set<string>();
  const debug = (...args: unknown[]) => {
    // Not pino's answer: a logger that holds lines runs at `trace`, and the SDK's chatter is not
    // worth building (and holding) for every request.
    if (writesLevel(logger, 'debug'))
      logger.debug({ tracing: { source: 'aws-xray-sdk-core' } }, format(...args));
  };
  const warn = (...args: unknown[]) => {
    const message = typeof args[0] === 'string' ? args[0] : format(...args);
    if (samplingFailure.test(message)) {
      // The daemon answered with the X-Ray API's refusal, which the status has logged already.
      if (!status.refusedThisTurn) status.failed('sampling', args[1] ?? new Error(message));
      return;
    }
    if (seen.has(message) || seen.size >= maxDistinctWarnings) {
      debug(...args);
      return;
    }
    seen.add(message);
    logger.warn(
      { tracing: { source: 'aws-xray-sdk-core' } },
      `aws-xray-sdk-core: ${format(...args)} (logged once)`,
    );
  };
  return {
    debug,
    info(...args: unknown[]) {
      if (typeof args[0] === 'string' && samplingSuccess.test(args[0])) status.succeeded('sampling');
      debug(...args);
    },
    warn,
    error: warn,
  };
}
