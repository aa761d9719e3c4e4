import type { Logger } from 'pino';

/**
 * Replaces Node's default printing of process warnings (deprecations, the AWS SDK's Node-version
 * notice, `MaxListenersExceededWarning`) to stderr with a JSON `warn` line on the logger, so that
 * the output stays machine-readable. Returns the function that restores the previous listeners.
 */
export function logProcessWarnings(logger: Logger): () => void {
  const previous = process.listeners('warning');
  for (const listener of previous) process.off('warning', listener);
  const onWarning = (warning: Error & { code?: string; detail?: string }): void => {
    logger.warn(
      { warning: { name: warning.name, code: warning.code, detail: warning.detail, stack: warning.stack } },
      warning.message,
    );
  };
  process.on('warning', onWarning);
  return () => {
    process.off('warning', onWarning);
    for (const listener of previous) process.on('warning', listener);
  };
}
