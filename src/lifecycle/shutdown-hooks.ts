import type { Logger } from 'pino';
import { describeValue } from '../config/parse.js';
import { InvalidArgumentError } from '../errors.js';
import { withTimeout } from '../internal/timers.js';

/** A function run during shutdown; its argument aborts when the function's time is up. */
export type ShutdownHook = (signal: AbortSignal) => unknown;

/** Options of a shutdown hook. */
export interface ShutdownHookOptions {
  /**
   * How long the hook may run before it is abandoned (and its signal aborted); the overall
   * `shutdown.timeoutMs` bounds it too, less the end kept for the final steps (a fifth, 2 s at most).
   * @default the `shutdown.hookTimeoutMs` option (5000)
   */
  timeoutMs?: number;
}

/** A hook or step as the coordinator keeps it: its timeout resolved. */
export interface RegisteredHook {
  readonly name: string;
  readonly fn: ShutdownHook;
  readonly timeoutMs: number;
}

/**
 * Runs `hook` for `budgetMs` at most: a hook that throws, rejects or outlives its budget (its signal
 * then aborts) is logged as the `kind` it is, and the shutdown goes on. Never rejects; resolves with
 * whether it timed out.
 */
export async function runWithin(
  kind: string,
  hook: RegisteredHook,
  budgetMs: number,
  logger: Logger,
): Promise<boolean> {
  const controller = new AbortController();
  let started: Promise<unknown>;
  try {
    started = Promise.resolve(hook.fn(controller.signal));
  } catch (error) {
    started = Promise.reject(error);
  }
  const outcome = await withTimeout(started, budgetMs);
  if (outcome.outcome === 'rejected') {
    logger.error({ err: outcome.reason, hook: hook.name }, `${kind} "${hook.name}" failed`);
  } else if (outcome.outcome === 'timed-out') {
    controller.abort(
      new DOMException(`${kind} "${hook.name}" timed out after ${budgetMs} ms`, 'TimeoutError'),
    );
    logger.error(
      { hook: hook.name, timeoutMs: budgetMs },
      `${kind} "${hook.name}" timed out after ${budgetMs} ms`,
    );
    return true;
  }
  return false;
}

/** `drain step "fastify close" and shutdown hooks "queue", "db"`: what a cut left unstarted. */
export function namedSteps(steps: readonly string[], hooks: readonly string[]): string {
  const named = (kind: string, names: readonly string[]) =>
    names.length === 0
      ? []
      : [`${kind}${names.length === 1 ? '' : 's'} ${names.map((name) => `"${name}"`).join(', ')}`];
  return [...named('drain step', steps), ...named('shutdown hook', hooks)].join(' and ');
}

/** `onShutdown(name, fn, options)` as the types say: JavaScript callers get an error naming the fix. */
export function checkHook(name: unknown, fn: unknown, options: ShutdownHookOptions): void {
  if (typeof name !== 'string' || name === '') {
    throw new InvalidArgumentError(
      `runtime.onShutdown(name, fn) takes a name first, as onShutdown('database', () => pool.end()); received ${describeValue(name)} as the name.`,
    );
  }
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(
      `runtime.onShutdown("${name}", fn): fn must be a function; received ${describeValue(fn)}.`,
    );
  }
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs >= 1)) {
    throw new InvalidArgumentError(
      `runtime.onShutdown("${name}"): timeoutMs must be a whole number of milliseconds of at least 1; received ${describeValue(timeoutMs)}.`,
    );
  }
}
