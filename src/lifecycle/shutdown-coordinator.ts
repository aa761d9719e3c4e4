import type { Server, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { describeValue } from '../config/parse.js';
import { InvalidArgumentError } from '../errors.js';
import {
  getMutableRequestContext,
  http2ResponseSlot,
  type MutableRequestContext,
  runOutsideRequestContext,
} from '../http/context.js';
import { contextOfResponse } from '../http/request-scope.js';
import { sleep, withTimeout } from '../internal/timers.js';
import { AwaitingShutdownWatch, awaitingNote } from './awaiting-shutdown.js';
import { ConnectionTracker, type ManagedServer, portOf } from './connection-tracker.js';
import { groupOpenResponses, openResponsesFields, openResponsesNote } from './open-responses.js';
import { closedElsewhere, closedWhileDraining } from './server-closed.js';
import {
  checkHook,
  namedSteps,
  type RegisteredHook,
  runWithin,
  type ShutdownHook,
  type ShutdownHookOptions,
} from './shutdown-hooks.js';
import type { LifecycleState } from './state.js';
import { TrackedWork } from './tracked-work.js';

export type { ShutdownHook, ShutdownHookOptions } from './shutdown-hooks.js';

/** How a shutdown ended. */
export interface ShutdownResult {
  /** What started it: the signal name, `uncaughtException`, or the reason given to `shutdown()`. */
  readonly reason: string;
  /**
   * 0 when everything finished in time; 1 when an uncaught exception (or, by policy, an unhandled
   * rejection) started it, the deadline was reached, or a second signal forced the exit. A hook that
   * failed or ran out of its own time is logged and leaves it 0.
   */
  readonly exitCode: number;
  /** True when the deadline was reached: what was left was destroyed, or a step not run. */
  readonly timedOut: boolean;
  /** Milliseconds from the start of the shutdown to its end. */
  readonly durationMs: number;
}

/** Settings of the {@link ShutdownCoordinator}, from the validated config. */
export interface ShutdownSettings {
  readonly timeoutMs: number;
  readonly drainDelayMs: number;
  readonly idleGraceMs: number;
  readonly hookTimeoutMs: number;
  /** The signals that start the shutdown, a second of which forces the exit (none: no such hint). */
  readonly signals?: readonly NodeJS.Signals[];
  /** How often a shutdown that takes long says what it still waits for; 5 s when not given. */
  readonly progressEveryMs?: number;
}

/** How long the deadline waits, after destroying the sockets, for the requests they carried to end. */
const cutRequestsWaitMs = 100;
/** The end of `shutdown.timeoutMs` kept for the final steps (a fifth of it, at most this). */
const finalStepsReserveMs = 2_000;
/** Time kept for each later final step while one runs (the metrics' and the logger's flush take ms). */
const laterFinalStepMs = 250;
/** Time left after an idle socket's grace for its close to be seen before the drain's end. */
const idleCloseMarginMs = 100;

/** How often a shutdown that takes long says what it waits for: a drain held to its deadline is silent otherwise. */
const progressEveryMs = 5_000;

/** The phase in which the drain waits for the app to close its upgraded connections. */
const awaitingUpgraded = 'awaiting upgraded connections';

/** `, 2 upgraded connections (WebSocket) among them`, for the deadline line; empty when none. */
function upgradedNote(count: number): string {
  if (count === 0) return '';
  return `, ${count} upgraded connection${count === 1 ? '' : 's'} (WebSocket) among them`;
}

/**
 * The shutdown state machine, `starting → ready → draining → stopped`. A shutdown fails readiness
 * and aborts {@link ShutdownCoordinator.signal}, keeps serving for the drain delay, drains every
 * server without dropping a request, awaits tracked work, runs the hooks in reverse order of
 * registration (each bounded), and flushes the logger last. `shutdown.timeoutMs` bounds it all:
 * past four fifths of it (at most 2 s before its end, never sooner than the drain delay and the idle
 * grace allow) what is left is destroyed and logged, the hooks not yet started are skipped (one line
 * names them all), the final steps (spans, metrics, the logger) run in what remains, and the exit
 * code is 1.
 */
export class ShutdownCoordinator {
  readonly #settings: ShutdownSettings;
  readonly #logger: Logger;
  readonly #exit: ((code: number) => void) | false;
  readonly #abort = new AbortController();
  readonly #trackers: ConnectionTracker[] = [];
  readonly #hooks: RegisteredHook[] = [];
  readonly #afterDrain: RegisteredHook[] = [];
  readonly #finalizers: RegisteredHook[] = [];
  readonly #stoppedListeners: (() => void)[] = [];
  #state: LifecycleState = 'starting';
  #phase = 'not started';
  /** The step `runtime.shutdown()` was last called in, during the shutdown. */
  #calledDuring: string | undefined;
  #failed = false;
  /** The hooks in the order the sequence runs them, once it reached them (registrations then close). */
  #hooksTaken: RegisteredHook[] | undefined;
  /** The drain steps and hooks the sequence started: what else it had to run is named at a cut. */
  readonly #begun = new Set<RegisteredHook>();
  #cutShort = false;
  /** The sequence ended or was cut: a task tracked now is not awaited. */
  #tasksClosed = false;
  /** A second signal ends the shutdown: it alone exits, once the requests it cut wrote their lines. */
  #forced = false;
  #result: Promise<ShutdownResult> | undefined;
  /** When the drain's part of the deadline ends (`performance.now()`), once the shutdown started. */
  #drainEndsAt = Number.POSITIVE_INFINITY;
  /** What awaits `runtime.shutdown()` (a request before it answers, tracked work) while the drain waits for it. */
  readonly #awaiting: AwaitingShutdownWatch;
  /** The work `runtime.track()` was given. */
  readonly #tasks: TrackedWork;

  constructor(settings: ShutdownSettings, logger: Logger, exit: ((code: number) => void) | false) {
    this.#settings = settings;
    this.#logger = logger;
    this.#exit = exit;
    this.#tasks = new TrackedWork(logger);
    this.#awaiting = new AwaitingShutdownWatch(logger, {
      msLeft: () => Math.max(0, Math.round(this.#drainEndsAt - performance.now())),
      timeoutMs: settings.timeoutMs,
    });
  }

  /** The lifecycle state. */
  get state(): LifecycleState {
    return this.#state;
  }

  /** Aborted when draining begins. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Requests in flight on the managed servers. */
  get inFlight(): number {
    return this.#trackers.reduce((sum, t) => sum + t.inFlight, 0);
  }

  /** The response an HTTP/1 connection of a managed server is writing now that `test` picks, if any. */
  findResponse(test: (res: ServerResponse) => boolean): ServerResponse | undefined {
    for (const tracker of this.#trackers) {
      const res = tracker.findResponse(test);
      if (res !== undefined) return res;
    }
    return undefined;
  }

  /** Moves `starting` to `ready`; no effect in any other state. */
  markReady(): void {
    if (this.#state === 'starting') this.#state = 'ready';
  }

  /**
   * Drains `server` with the others on shutdown. Closed by anyone else while the runtime is ready,
   * it is said, and, the app's main server (`main`) or the last open, starts the shutdown.
   */
  addServer(server: ManagedServer, main = false): void {
    const tracker = new ConnectionTracker(server);
    this.#trackers.push(tracker);
    // Removed once stopped, as every listener the kit adds.
    this.#stoppedListeners.push(
      tracker.watchForeignClose(
        (port) => this.#closedElsewhere(port, main),
        (port, calledFrom) => {
          // Called at once on runtime.signal, before the sequence named its first phase: that one.
          const phase =
            this.#phase !== 'not started'
              ? this.#phase
              : this.#settings.drainDelayMs > 0
                ? 'drain delay'
                : 'draining connections';
          closedWhileDraining(this.#logger, port, phase, phase === 'drain delay', calledFrom);
        },
      ),
    );
    tracker.countUnseenUpgraded((count) => {
      const port = portOf(server as Server);
      this.#logger.warn(
        { port, upgraded: count },
        `${count} upgraded connection${count === 1 ? '' : 's'} (WebSocket) of the server on port ${port} ${count === 1 ? 'was' : 'were'} open before runtime.manageServer(server): Node no longer lists them, so the shutdown can neither see nor close them; close them on runtime.signal, or call manageServer before listen()`,
      );
    });
    if (this.#state === 'draining') void tracker.drain(this.#settings.idleGraceMs);
  }

  /**
   * Shutdown waits for `promise` (bounded by the deadline); a rejection is logged. Tracked during the
   * shutdown (by a hook), it is awaited before the next hook starts and before the final steps; once
   * those begin, nothing awaits it, and a line says so.
   */
  track<T>(promise: Promise<T>, name = 'task'): Promise<T> {
    // Checked first: an entry that never settles would hold the shutdown in a loop no timer breaks.
    if (typeof (promise as { then?: unknown } | null)?.then !== 'function') {
      throw new InvalidArgumentError(
        `runtime.track(promise) takes the promise of the work, as track(job(), 'job'); received ${describeValue(promise)}${typeof promise === 'function' ? ': call the function and pass what it returns' : ''}.`,
      );
    }
    if (this.#tasksClosed || this.#state === 'stopped') {
      this.#logger.warn(
        { task: name, phase: this.#phase },
        `runtime.track(promise, "${name}") came after the shutdown stopped waiting for tracked work (${this.#phase}): the process may exit before it ends; track it before the last onShutdown hook returns, or await it there`,
      );
    }
    this.#tasks.add(promise, name);
    return promise;
  }

  /** A managed server closed by someone else while serving: said; the main one, or the last one open, stops the app. */
  #closedElsewhere(port: number | undefined, main: boolean): void {
    if (this.#state !== 'ready') return;
    const open = this.#trackers.filter((tracker) => tracker.listening).length;
    if (closedElsewhere(this.#logger, port, open, main)) void this.shutdown('server closed');
  }

  /** Registers a hook run after the drain, in reverse order of registration. Returns its remover. */
  onShutdown(name: string, fn: ShutdownHook, options?: ShutdownHookOptions): () => void {
    checkHook(name, fn, options ?? {});
    if (this.#hooksTaken !== undefined) {
      this.#logger.warn(
        { hook: name, phase: this.#phase },
        `shutdown hook "${name}" was registered after the shutdown hooks started: it will not run`,
      );
    }
    const hook: RegisteredHook = { name, fn, timeoutMs: options?.timeoutMs ?? this.#settings.hookTimeoutMs };
    this.#hooks.push(hook);
    return () => {
      const index = this.#hooks.indexOf(hook);
      if (index !== -1) this.#hooks.splice(index, 1);
    };
  }

  /**
   * Registers a kit-internal step run once connections are drained and tracked work is done, before
   * the hooks (a framework's own close, such as Fastify's `onClose` hooks).
   */
  onDrained(name: string, fn: ShutdownHook): void {
    this.#afterDrain.push({ name, fn, timeoutMs: this.#settings.hookTimeoutMs });
  }

  /** Registers a kit-internal step run after every hook (the logger's and tracer's flush). */
  onFinal(name: string, fn: ShutdownHook, timeoutMs: number): void {
    this.#finalizers.push({ name, fn, timeoutMs });
  }

  /** Calls `listener` once the state is `stopped`, before the process exits. */
  onStopped(listener: () => void): void {
    this.#stoppedListeners.push(listener);
  }

  /**
   * Starts the shutdown, or joins the one under way. `failure` makes the exit code 1 even when
   * everything finishes in time (an uncaught exception).
   */
  shutdown(reason: string, failure = false): Promise<ShutdownResult> {
    if (failure) this.#failed = true;
    // A start that failed stopped the runtime without a shutdown: there is nothing left to stop.
    if (this.#state === 'stopped' && this.#result === undefined)
      return Promise.resolve({ reason, exitCode: 0, timedOut: false, durationMs: 0 });
    // Not the request's work, wherever it was started from: its lines carry no requestId, its hooks'
    // spans are no child of the request's, their debug lines are not held with the request's.
    this.#result ??= runOutsideRequestContext(() => this.#run(reason));
    return this.#result;
  }

  /**
   * `runtime.shutdown()`: {@link ShutdownCoordinator.shutdown}, noting the step it came in. Awaited
   * there (a hook that stops the app itself), it waits for that very step, which waits for it: both
   * until the step's timeout. Should that step time out, a line says why. Called in tracked work, or
   * in a request whose response has not ended on a managed server (HTTP/1 or HTTP/2), the drain
   * waits for that work or request: awaited there before it ends, both wait until the deadline, and
   * lines say so (see {@link AwaitingShutdownWatch}).
   */
  shutdownByApp(reason: string): Promise<ShutdownResult> {
    if (this.#state === 'draining') this.#calledDuring = this.#phase;
    const context = getMutableRequestContext();
    // The tracked work the caller's code runs in, if any: read from the caller's stack, so here.
    const task = this.#tasks.taskCalling();
    const result = this.shutdown(reason);
    if (this.#state === 'stopped') return result;
    // Tracked work first: a task a request started is what awaits, not the request.
    if (task !== undefined) {
      return this.#awaiting.watchTask(
        result,
        task.name,
        () => this.#tasks.taskCalling() !== undefined,
        () => !task.settled,
      );
    }
    if (context === undefined) return result;
    const res = this.responseOf(context);
    if (res === undefined || res.writableEnded) return result;
    return this.#awaiting.watchRequest(result, context, res);
  }

  /**
   * The response of the request of `context` on a managed server, if it is in flight there: an
   * HTTP/1 connection's current one, or an HTTP/2 stream's (which no socket names: the context
   * keeps it until the response closes).
   */
  responseOf(context: MutableRequestContext): ServerResponse | undefined {
    const http2 = context[http2ResponseSlot];
    if (http2 !== undefined) return this.#trackers.some((t) => t.servesHttp2(http2)) ? http2 : undefined;
    return this.findResponse((candidate) => contextOfResponse(candidate) === context);
  }

  /**
   * Ends at once: starts no further hook (one line names those not run), destroys every socket,
   * waits up to 100 ms for the requests cut to write their lines (as at the deadline), flushes the
   * log, exits 1. For a second signal; a later one (a second Ctrl+C reaches an app under `npm start`
   * twice) changes nothing.
   */
  force(reason: string): void {
    if (this.#forced) return;
    this.#forced = true;
    this.#logger.warn(
      { reason, phase: this.#phase, inFlight: this.inFlight },
      'shutdown forced: exiting now',
    );
    if (this.#state === 'draining')
      this.#logNotRun(`the shutdown was forced (${reason}); send one signal to let them run`);
    for (const tracker of this.#trackers) tracker.destroyAll();
    void this.#cutRequestsEnded().then(() => this.#finish(1, true));
  }

  async #run(reason: string): Promise<ShutdownResult> {
    const startedAt = performance.now();
    const { timeoutMs, drainDelayMs } = this.#settings;
    this.#state = 'draining';
    for (const tracker of this.#trackers) tracker.signalled();
    this.#abort.abort(new DOMException(`apprunner-kit is shutting down (${reason})`, 'AbortError'));
    this.#logger.info(
      {
        reason,
        inFlight: this.inFlight,
        connections: this.#connections(),
        upgraded: this.upgraded,
        timeoutMs,
        drainDelayMs,
      },
      'shutdown started',
    );

    // The one timer the kit keeps referenced: while shutting down, the process must stay alive until
    // the sequence ends or the deadline passes, even when what it awaits (a hook's promise) holds no
    // handle of its own; otherwise Node would exit early, skipping the remaining hooks.
    const keepAlive = setTimeout(() => {}, timeoutMs + 1_000);
    // The end of the deadline is kept for the final steps: the spans, metrics and lines of what the
    // deadline cuts are written too (they were lost with it).
    const deadline = startedAt + timeoutMs;
    // Never into what the drain delay and an idle socket's grace need (with a margin for its close).
    const { idleGraceMs } = this.#settings;
    const reserveMs = Math.max(
      0,
      Math.min(
        finalStepsReserveMs,
        Math.floor(timeoutMs / 5),
        timeoutMs - drainDelayMs - idleGraceMs - idleCloseMarginMs,
      ),
    );
    const drainMs = timeoutMs - reserveMs;
    this.#drainEndsAt = startedAt + drainMs;
    const progress = setInterval(
      () => this.#sayProgress(startedAt),
      this.#settings.progressEveryMs ?? progressEveryMs,
    );
    progress.unref();
    const outcome = await withTimeout(this.#sequence(startedAt + drainMs), drainMs);
    clearInterval(progress);
    this.#tasksClosed = true;
    // What the sequence had left (hooks) is not started once the final steps run.
    if (outcome.outcome === 'timed-out') {
      this.#cutShort = true;
      const awaiting = this.#awaiting.unended();
      const open = groupOpenResponses(this.#trackers.flatMap((tracker) => tracker.openResponses()));
      this.#logger.error(
        {
          reason,
          timeoutMs,
          phase: this.#phase,
          inFlight: this.inFlight,
          connections: this.#connections(),
          upgraded: this.upgraded,
          tasks: this.#tasks.names(),
          ...openResponsesFields(open.named, open.notNamed),
          ...(awaiting.length === 0 ? {} : { awaitingShutdown: awaiting }),
        },
        `shutdown timed out after ${drainMs} ms: destroying what is left${upgradedNote(this.upgraded)}${openResponsesNote(open.named, open.notNamed)}${awaitingNote(awaiting)}`,
      );
    }
    // Forced, the forced line named them already.
    if (this.#cutShort && !this.#forced) {
      this.#logNotRun(
        this.#phase === awaitingUpgraded
          ? 'the deadline has passed with upgraded connections (WebSocket) open, and the hooks run once they close; close them on runtime.signal, not in a hook'
          : `the deadline has passed; give them time with a longer shutdown.timeoutMs (now ${timeoutMs} ms), or shorter work before them`,
      );
    }
    if (outcome.outcome === 'timed-out') {
      for (const tracker of this.#trackers) tracker.destroyAll();
      await this.#cutRequestsEnded();
    }
    // Forced, the exit flushes what it can at once: a final step run now could flush the metrics
    // before the requests it cut are counted.
    const finalSteps = this.#forced ? [] : this.#finalizers;
    for (const [index, hook] of finalSteps.entries()) {
      // A step that hangs (an export to a collector that never answers) leaves the later ones time.
      const later = finalSteps.length - 1 - index;
      const reserved = Math.min(
        later * laterFinalStepMs,
        Math.floor(((deadline - performance.now()) * later) / (later + 1)),
      );
      // A final step cut by what the deadline left it has run: the later ones still run.
      if ((await this.#runHook('final step', hook, deadline - Math.max(0, reserved))) !== 'not run') continue;
      this.#cutShort = true;
      this.#logger.error({ hook: hook.name }, `final step "${hook.name}" not run: the deadline has passed`);
    }
    clearTimeout(keepAlive);
    // Out of time, or a step not run for want of it.
    const timedOut = this.#cutShort;
    const exitCode = timedOut || this.#failed || this.#forced ? 1 : 0;
    const durationMs = Math.round(performance.now() - startedAt);
    // Forced, the shutdown did not complete: the forced line and the exit end it.
    if (!this.#forced) this.#logger.info({ reason, exitCode, durationMs }, 'shutdown complete');
    this.#finish(exitCode);
    return { reason, exitCode, timedOut, durationMs };
  }

  /**
   * A line, every few seconds of a drain that takes long, naming what it waits for: the responses
   * still open (a stream, a long poll), the upgraded connections, the tracked tasks, the hook that
   * runs; and that a second signal (Ctrl+C again) exits at once, where signals start it. Without it,
   * a drain held by a stream to its deadline said nothing from its first line to its last, 18 s later.
   */
  #sayProgress(startedAt: number): void {
    const phase = this.#phase;
    if (this.#state !== 'draining' || this.#forced || phase === 'drain delay') return;
    const open = groupOpenResponses(this.#trackers.flatMap((tracker) => tracker.openResponses()));
    const tasks = phase === 'awaiting tracked tasks' ? this.#tasks.names() : [];
    const elapsedMs = Math.round(performance.now() - startedAt);
    const deadlineInMs = Math.max(0, Math.round(this.#drainEndsAt - performance.now()));
    this.#logger.info(
      {
        phase,
        elapsedMs,
        deadlineInMs,
        inFlight: this.inFlight,
        upgraded: this.upgraded,
        ...openResponsesFields(open.named, open.notNamed),
        ...(tasks.length === 0 ? {} : { tasks }),
      },
      `still shutting down after ${Math.round(elapsedMs / 1000)} s (${phase})${openResponsesNote(open.named, open.notNamed, ': ')}${this.upgraded === 0 ? '' : `; ${this.upgraded} upgraded connection${this.upgraded === 1 ? '' : 's'} (WebSocket) open`}; the deadline is in ${Math.ceil(deadlineInMs / 1000)} s${this.#settings.signals?.length ? ', and a second signal (Ctrl+C again) exits at once' : ''}`,
    );
  }

  async #sequence(deadline: number): Promise<void> {
    if (this.#settings.drainDelayMs > 0) {
      this.#phase = 'drain delay';
      await sleep(this.#settings.drainDelayMs);
    }
    this.#phase = 'draining connections';
    const drains = this.#trackers.map((t) => t.drain(this.#settings.idleGraceMs));
    await Promise.all(this.#trackers.map((t) => t.requestsDrained()));
    await this.#tasksSettled();
    // The framework's close (Fastify's `preClose` hooks end its WebSockets), then what is left open.
    for (const step of this.#afterDrain) {
      if (!(await this.#runStep('drain step', step, deadline))) return;
    }
    this.#phase = awaitingUpgraded;
    await Promise.all(drains);
    this.#hooksTaken = [...this.#hooks].reverse();
    for (const hook of this.#hooksTaken) {
      if (!(await this.#runStep('shutdown hook', hook, deadline))) return;
    }
    // Tracked by the last hook: its work, as the work of a request, is part of the shutdown.
    await this.#tasksSettled();
  }

  /**
   * Awaits every tracked task, those tracked meanwhile too. Before each step as well: work a hook
   * tracks (a queue's flush it started) ends before the next hook closes what it may use (registered
   * earlier, the database runs later), as the work of requests ends before the first hook.
   */
  async #tasksSettled(): Promise<void> {
    if (this.#tasks.size === 0) return;
    this.#phase = 'awaiting tracked tasks';
    await this.#tasks.settled();
  }

  /**
   * Runs a drain step or hook of the sequence; false once the deadline cut it short: it is not run,
   * or it ran until the deadline cut it (then nothing after it starts, whichever of its timer and the
   * sequence's fires first).
   */
  async #runStep(kind: string, step: RegisteredHook, deadline: number): Promise<boolean> {
    await this.#tasksSettled();
    if (this.#cutShort || this.#forced) return false;
    if ((await this.#runHook(kind, step, deadline)) !== 'ran') {
      this.#cutShort = true;
      return false;
    }
    return true;
  }

  /**
   * One line naming every drain step and hook the sequence had not started when the deadline or a
   * second signal cut it, and `why`: none of them runs now (the one running at the cut is named by its
   * own line and `phase`).
   */
  #logNotRun(why: string): void {
    const steps = this.#afterDrain.filter((step) => !this.#begun.has(step)).map((step) => step.name);
    const hooks = (this.#hooksTaken ?? [...this.#hooks].reverse())
      .filter((hook) => !this.#begun.has(hook))
      .map((hook) => hook.name);
    if (steps.length === 0 && hooks.length === 0) return;
    this.#logger.error(
      { hooks, ...(steps.length === 0 ? {} : { steps }), phase: this.#phase },
      `${namedSteps(steps, hooks)} not run: ${why}`,
    );
  }

  /**
   * Runs `hook` within its budget: `'not run'` when the deadline left it none; `'cut'` when it ran
   * until the deadline cut it (its budget was what the deadline left, not its own timeout, and it
   * timed out); `'ran'` otherwise.
   */
  async #runHook(kind: string, hook: RegisteredHook, deadline: number): Promise<'not run' | 'cut' | 'ran'> {
    this.#phase = `${kind} "${hook.name}"`;
    const budget = Math.max(0, Math.min(hook.timeoutMs, Math.floor(deadline - performance.now())));
    if (budget === 0) return 'not run';
    this.#begun.add(hook);
    const phase = this.#phase;
    const timedOut = await runWithin(kind, hook, budget, this.#logger);
    if (timedOut && this.#calledDuring === phase) {
      this.#logger.warn(
        { phase },
        `runtime.shutdown() was called during ${phase}, which then timed out: awaited inside the step, the shutdown waits for that step itself; return from it instead`,
      );
    }
    return timedOut && budget < hook.timeoutMs ? 'cut' : 'ran';
  }

  /** Open upgraded connections (WebSocket) on the managed servers. */
  get upgraded(): number {
    return this.#trackers.reduce((sum, t) => sum + t.upgraded, 0);
  }

  #connections(): number {
    return this.#trackers.reduce((sum, t) => sum + t.connections, 0);
  }

  /**
   * The start failed: runs the `onStopped` listeners (timers, process handlers and probes are let go),
   * without a shutdown or an exit. No effect after `starting`: a shutdown under way ends as it would.
   */
  abandon(): void {
    if (this.#state === 'starting') this.#stop();
  }

  #stop(): void {
    this.#state = 'stopped';
    this.#phase = 'stopped';
    for (const listener of this.#stoppedListeners) listener();
  }

  /**
   * The requests cut short end on their sockets' 'close' events, which run after the destroy: waits
   * for them (100 ms at most), so that each writes its `request aborted` line, held lines and metrics
   * before the exit. On a referenced timer: nothing else may keep the process alive by then, and an
   * exit of its own would skip the exit code and the last lines.
   */
  async #cutRequestsEnded(): Promise<void> {
    const cutAt = performance.now();
    while (this.inFlight > 0 && performance.now() - cutAt < cutRequestsWaitMs)
      await new Promise((resolve) => setTimeout(resolve, 1));
  }

  /** Stops and exits; once forced, only the forced path does (a sequence ending meanwhile would exit 0). */
  #finish(exitCode: number, forced = false): void {
    if (this.#state === 'stopped' || (this.#forced && !forced)) return;
    this.#stop();
    this.#logger.flush();
    if (this.#exit !== false) this.#exit(exitCode);
  }
}
