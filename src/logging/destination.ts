import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import type { RedactionRegistry } from './redaction.js';
import { processStdout } from './stdout-destination.js';

/** How lines reach stdout. */
export type StdoutMode = 'json' | 'pretty';

/**
 * The default destination: the process's one stdout writer ({@link processStdout}), which batches the
 * lines of each event-loop turn, never stalls on a slow reader, and is flushed on shutdown and exit.
 */
export function stdoutDestination(): DestinationStream {
  // Touching process.stdout makes libuv put a pipe on fd 1 in non-blocking mode, so that a full pipe
  // answers EAGAIN (and lines wait in memory) instead of blocking the event loop.
  void process.stdout.isTTY;
  return processStdout();
}

/**
 * pino-pretty, when `mode` allows it, stdout is a terminal and the app has `pino-pretty`
 * installed; `undefined` otherwise. Never on a pipe: App Runner and CloudWatch get JSON.
 */
export function prettyDestination(
  mode: boolean | 'auto',
  isTTY: boolean,
  cwd: string,
): DestinationStream | undefined {
  if (mode === false || (mode === 'auto' && !isTTY)) return undefined;
  try {
    // Resolved from the app's own directory: pino-pretty is the app's (dev) dependency, not the kit's.
    const pretty = createRequire(join(cwd, 'package.json'))('pino-pretty') as (
      options: object,
    ) => DestinationStream;
    return pretty({ sync: true, colorize: isTTY });
  } catch {
    return undefined; // not installed: JSON it is
  }
}

/** Wraps `destination` so that every line is masked by `registry` before it is written. */
export function redactingDestination(
  destination: DestinationStream,
  registry: RedactionRegistry,
): DestinationStream {
  const target = destination as DestinationStream & {
    flush?: (cb?: (error?: Error) => void) => void;
    flushSync?: () => void;
  };
  const wrapped: DestinationStream & { flush?: unknown; flushSync?: unknown } = {
    write: (line: string) => target.write(registry.mask(line)),
  };
  if (typeof target.flush === 'function') wrapped.flush = target.flush.bind(target);
  if (typeof target.flushSync === 'function') wrapped.flushSync = target.flushSync.bind(target);
  return wrapped;
}
