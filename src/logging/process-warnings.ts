import type { Logger } from 'pino';
import type { NodeWarningSwitches } from '../config/node-flags.js';
import { processGlobal } from '../internal/process-global.js';

type WarningListener = (warning: Error & { code?: string; detail?: string }) => void;

/**
 * The kit's `warning` listeners in the process, one per running runtime (of any copy of the kit), and
 * the listeners the first of them took out (Node's default printer). Runtimes may stop in any order:
 * each removes its own listener, and the last puts back what the first took out.
 */
const routing = processGlobal('processWarnings.v1', () => ({
  installed: new Set<WarningListener>(),
  displaced: [] as NodeJS.WarningListener[],
}));

/**
 * Replaces Node's default printing of process warnings (deprecations, the AWS SDK's Node-version
 * notice, `MaxListenersExceededWarning`) to stderr with a JSON `warn` line on the logger, so that
 * the output stays machine-readable. Node's switches for that printing hold for the lines too: under
 * `--no-warnings` (or `NODE_NO_WARNINGS=1`) none is written, a warning whose type or code a
 * `--disable-warning` names is left out, and under `--redirect-warnings` Node's printer stays and
 * writes them to its file. Returns the function that removes this logger's listener (safe to call
 * twice); the listeners taken out come back when the last runtime's is removed.
 */
export function logProcessWarnings(logger: Logger, switches: NodeWarningSwitches): () => void {
  if (switches.silenced || switches.redirectedTo !== undefined) return () => {};
  if (routing.installed.size === 0) {
    routing.displaced = process.listeners('warning');
    for (const listener of routing.displaced) process.off('warning', listener);
  }
  const { disabled } = switches;
  const onWarning: WarningListener = (warning) => {
    if (disabled.has(warning.name) || (warning.code !== undefined && disabled.has(warning.code))) return;
    logger.warn(
      { warning: { name: warning.name, code: warning.code, detail: warning.detail, stack: warning.stack } },
      warning.message,
    );
  };
  routing.installed.add(onWarning);
  process.on('warning', onWarning);
  return () => {
    if (!routing.installed.delete(onWarning)) return;
    process.off('warning', onWarning);
    if (routing.installed.size > 0) return;
    const displaced = routing.displaced;
    routing.displaced = [];
    for (const listener of displaced) process.on('warning', listener);
  };
}
