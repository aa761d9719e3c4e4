import type { Logger } from 'pino';

/** A promise `runtime.track()` was given: its name, and the async function that awaits it. */
export interface TrackedTask {
  readonly name: string;
  readonly waiter: () => Promise<void>;
  /** What the waiter returned: settles (never rejects) once the task has. */
  done: Promise<void>;
  settled: boolean;
}

/** What {@link TrackedWork.taskCalling} names each waiter, for its frame: this, then a number. */
const framePrefix = 'apprunner-kit tracked work ';

/** Deep enough to reach a task's waiter below the kit's own frames and the app's. */
const stackDepth = 64;

/**
 * The work `runtime.track(promise)` was given, which the shutdown waits for. Each task is awaited by
 * an async function of its own, its waiter: V8's async stack traces end the stack of any code the
 * task runs with that waiter's frame (`at async <waiter>`), through the awaits of async functions
 * and the promises `then` derives, so {@link TrackedWork.taskCalling} tells which task the caller
 * runs in. A waiter costs about what the `then` it replaced did (~25 ns a task more, measured);
 * waiters are named only when asked.
 */
export class TrackedWork {
  readonly #tasks = new Map<PromiseLike<unknown>, TrackedTask>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** How many tasks have not settled. */
  get size(): number {
    return this.#tasks.size;
  }

  /** The names of the tasks that have not settled, in the order they were tracked. */
  names(): string[] {
    return [...this.#tasks.values()].map((task) => task.name);
  }

  /** Follows `promise` until it settles; a rejection is logged. */
  add(promise: PromiseLike<unknown>, name: string): void {
    const waiter = async () => {
      try {
        await promise;
      } catch (error) {
        this.#logger.error({ err: error, task: name }, `tracked task "${name}" failed`);
      } finally {
        task.settled = true;
        this.#tasks.delete(promise);
      }
    };
    const task: TrackedTask = { name, waiter, done: Promise.resolve(), settled: false };
    this.#tasks.set(promise, task);
    task.done = waiter();
  }

  /**
   * Resolves once every task has settled, those tracked meanwhile too. Waits on the waiters, never on
   * the tasks' own promises: a second reaction on a task's promise would end V8's async stack at it,
   * and {@link taskCalling} would no longer see the task's code calling.
   */
  async settled(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks.values()].map((task) => task.done));
  }

  /**
   * The task whose code calls this (its waiter's frame is on the caller's async stack), the
   * innermost when a task's code tracked another; `undefined` outside any. Each waiter is named
   * first: V8 shows a function's `name` when it is a data property. A task whose promise the app
   * also awaits elsewhere is not seen: V8's async stack stops at a promise with several reactions.
   */
  taskCalling(): TrackedTask | undefined {
    if (this.#tasks.size === 0) return undefined;
    const byFrame = new Map<string, TrackedTask>();
    for (const task of this.#tasks.values()) {
      const frame = `${framePrefix}${byFrame.size}`;
      Object.defineProperty(task.waiter, 'name', { value: frame, configurable: true });
      byFrame.set(frame, task);
    }
    for (const site of callSites()) {
      if (!site.isAsync()) continue;
      const task = byFrame.get(site.getFunctionName() ?? '');
      if (task !== undefined) return task;
    }
    return undefined;
  }
}

/**
 * The caller's stack as V8's call sites, async frames included; read as call sites, not as text,
 * which an app's `Error.prepareStackTrace` (source-map-support) may word otherwise. Empty where
 * `Error` cannot be changed (frozen intrinsics).
 */
function callSites(): NodeJS.CallSite[] {
  // An accessor (an agent's wrapper) would wrap what is put back: left alone, nothing is read.
  const own = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace');
  if (own !== undefined && !('value' in own)) return [];
  const { prepareStackTrace, stackTraceLimit } = Error;
  // Reflect.set: where Error is frozen it says false, where an assignment would throw.
  if (!Reflect.set(Error, 'prepareStackTrace', (_error: Error, sites: NodeJS.CallSite[]) => sites)) return [];
  try {
    Reflect.set(Error, 'stackTraceLimit', stackDepth);
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, callSites);
    return Array.isArray(holder.stack) ? (holder.stack as NodeJS.CallSite[]) : [];
  } finally {
    Reflect.set(Error, 'prepareStackTrace', prepareStackTrace);
    Reflect.set(Error, 'stackTraceLimit', stackTraceLimit);
  }
}
