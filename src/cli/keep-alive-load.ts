import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import type { Endpoint } from './health-probe.js';
import { LoopWatch } from './loop-watch.js';
import { pause } from './timing.js';

/** The outcome of one request of the load. */
export interface LoadOutcome {
  /** Sent on a connection that had already carried a request: App Runner's proxy reuses its connections. */
  readonly reused: boolean;
  /** Sent after the app was signalled to stop. */
  readonly afterSignal: boolean;
  /** Got a whole answer (any status). */
  readonly answered: boolean;
  readonly status?: number;
  /** Why it got no answer: `ECONNRESET`, `ECONNREFUSED`, `socket hang up`, `timeout`, … */
  readonly error?: string;
}

/** How long after an answer a connection closed by the app counts as closed at once. */
export const closedAtOnceMs = 200;

/**
 * When a close and the answer before it may have happened, as far as the checker can tell: each
 * between the start of a hold-up of the checker just before it was handled (`from`) and the moment it
 * was handled (`at`); both the same when the checker ran freely.
 */
export interface CloseTiming {
  readonly answerFrom: number;
  readonly answerAt: number;
  readonly closeFrom: number;
  readonly closeAt: number;
}

/**
 * Whether an idle connection closed at once after its last answer (`'at-once'`), after
 * {@link closedAtOnceMs} (`'late'`), or either way (`'uncertain'`): the checker was held up across
 * the end of that window, and what it sees afterwards is the same whether the close came 5 ms or
 * 500 ms after the answer.
 */
export function dateClose(t: CloseTiming): 'at-once' | 'late' | 'uncertain' {
  if (t.closeAt - t.answerFrom < closedAtOnceMs) return 'at-once';
  // The close came after the answer; at the earliest, when the checker last ran freely before it.
  if (Math.max(0, t.closeFrom - t.answerAt) >= closedAtOnceMs) return 'late';
  return 'uncertain';
}

interface SocketUse {
  busy: boolean;
  /** The last answer on it said `Connection: close`. */
  saidClose: boolean;
  /** When its last answer was handled; `undefined` before the first. */
  lastAnswerAt: number | undefined;
  /** How early that answer may have come: the start of a hold-up of the checker just before. */
  lastAnswerFrom: number;
  /** A request on it failed (counted as such), or the load closes it itself. */
  spent: boolean;
}

/** Options of {@link KeepAliveLoad}. */
export interface KeepAliveLoadOptions {
  readonly endpoint: Endpoint;
  readonly path: string;
  readonly connections: number;
  /** Requests at most, all connections together. */
  readonly maxRequests: number;
  /** A request without a whole answer after this long fails as `timeout`. */
  readonly requestTimeoutMs: number;
  /** Pause of a connection between an answer and its next request. @default 5 */
  readonly thinkMs?: number;
}

// Error codes are the useful part of a socket error; messages (`socket hang up`) where there is none.
function errorName(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNRESET' && error instanceof Error && error.message === 'socket hang up')
    return 'socket hang up';
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

/**
 * A light keep-alive load, as a proxy's connection pool sends it: a few connections, each with its
 * own agent holding one socket and one request at a time, back to back with a short pause. Records
 * each request's outcome, whether it went out on an already-open connection, and whether it was sent
 * after the stop signal. Bounded by `maxRequests` and each request's timeout.
 *
 * @example
 * ```ts
 * const load = new KeepAliveLoad({ endpoint, path: '/', connections: 4, maxRequests: 300, requestTimeoutMs: 5000 });
 * load.start();
 * // … app.signal('SIGTERM'); load.markSignal(); …
 * load.stop(); await load.finished;
 * ```
 */
export class KeepAliveLoad {
  readonly #options: KeepAliveLoadOptions;
  readonly #outcomes: LoadOutcome[] = [];
  readonly #agents: Agent[] = [];
  readonly #sockets = new WeakMap<Socket, SocketUse>();
  #sent = 0;
  #inFlight = 0;
  #stopped = false;
  #signalled = false;
  #closedAtOnce = 0;
  #closedUncertain = 0;
  #finished: Promise<void> = Promise.resolve();
  /** The sockets of the load not closed yet. */
  readonly #open = new Set<Socket>();
  /** How late the closes are seen: on a busy machine, the checker handles them late. */
  readonly #loop = new LoopWatch();

  constructor(options: KeepAliveLoadOptions) {
    this.#options = options;
  }

  /** Starts every connection's loop. */
  start(): void {
    this.#loop.start();
    const workers = Array.from({ length: this.#options.connections }, () => this.#worker());
    this.#finished = Promise.all(workers).then(() => this.#loop.stop());
  }

  /** Resolves when every connection's loop has ended (after {@link stop}, the budget, or refusals). */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /** Requests sent so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Requests that got an outcome so far. */
  get completed(): number {
    return this.#outcomes.length;
  }

  /** Requests sent and not yet answered or failed. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The outcomes so far. */
  get outcomes(): readonly LoadOutcome[] {
    return this.#outcomes;
  }

  /** From now on, requests sent count as sent after the stop signal. */
  markSignal(): void {
    this.#signalled = true;
  }

  /**
   * Connections the app closed after the stop signal while idle between two requests, within
   * {@link closedAtOnceMs} of the last answer and without having said `Connection: close`: a proxy
   * sends its next request on such a connection as it closes, and turns it into a 502 (the
   * keep-alive race). An app that drains closes an idle connection only after a grace, or after an
   * answer that said so.
   */
  get closedAtOnce(): number {
    return this.#closedAtOnce;
  }

  /**
   * Connections the app closed after the stop signal while idle, without `Connection: close`, that
   * the checker cannot tell closed at once or after a grace: it was held up (its process not
   * scheduled, on a busy machine) from before the end of {@link closedAtOnceMs} after the last
   * answer until after the close. Counted neither as closed at once nor as a clean close.
   */
  get closedUncertain(): number {
    return this.#closedUncertain;
  }

  /**
   * Resolves once every connection of the load has closed, or after `ms`. Called once the app has
   * exited, whose connections the system has closed by then but the load may not have seen closing
   * yet: stopped before, the load would close them itself, and never count them as the app's.
   */
  async closed(ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (this.#open.size > 0 && performance.now() < until) await pause(5);
  }

  /** Follows `socket`'s use, once per socket: busy or idle, and whether the app closed it at once. */
  #use(socket: Socket): SocketUse {
    let use = this.#sockets.get(socket);
    if (use !== undefined) return use;
    const created: SocketUse = {
      busy: false,
      saidClose: false,
      lastAnswerAt: undefined,
      lastAnswerFrom: 0,
      spent: false,
    };
    this.#sockets.set(socket, created);
    this.#open.add(socket);
    // 'close', not 'end': the agent reads a free socket with a guard of its own, which destroys it on
    // the app's FIN without an 'end'.
    socket.once('close', () => {
      this.#open.delete(socket);
      // Closed while idle, after an answer that did not say it would, and not by the load: at once
      // or not, as far as can be told. On a busy machine, a close 5 ms after the answer may be handled
      // 300 ms after it, and one 300 ms after the answer handled with it: a close or an answer handled
      // after the checker was held up may date from the start of the hold-up.
      if (
        !this.#signalled ||
        created.busy ||
        created.spent ||
        created.saidClose ||
        created.lastAnswerAt === undefined
      )
        return;
      const now = performance.now();
      const dated = dateClose({
        answerFrom: created.lastAnswerFrom,
        answerAt: created.lastAnswerAt,
        closeFrom: this.#loop.earliest(now),
        closeAt: now,
      });
      if (dated === 'at-once') this.#closedAtOnce += 1;
      else if (dated === 'uncertain') this.#closedUncertain += 1;
    });
    use = created;
    return use;
  }

  /** Sends no new request; those in flight go on. */
  stop(): void {
    this.#stopped = true;
  }

  /** Stops and destroys every connection: requests still in flight fail. */
  destroy(): void {
    this.#stopped = true;
    this.#loop.stop();
    for (const agent of this.#agents) this.#close(agent);
  }

  /** Destroys `agent`'s sockets, marked first: their closes are the load's, not the app's. */
  #close(agent: Agent): void {
    for (const sockets of [agent.freeSockets, agent.sockets])
      for (const list of Object.values(sockets))
        for (const socket of list ?? []) {
          const use = this.#sockets.get(socket as Socket);
          if (use !== undefined) use.spent = true;
        }
    agent.destroy();
  }

  async #worker(): Promise<void> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    this.#agents.push(agent);
    try {
      while (!this.#stopped && this.#sent < this.#options.maxRequests) {
        const outcome = await this.#send(agent);
        this.#outcomes.push(outcome);
        // A refused connection means the app no longer accepts: the proxy would route elsewhere.
        if (outcome.error === 'ECONNREFUSED') break;
        if (!this.#stopped) await pause(this.#options.thinkMs ?? 5);
      }
    } finally {
      this.#close(agent);
    }
  }

  #send(agent: Agent): Promise<LoadOutcome> {
    const { endpoint, path, requestTimeoutMs } = this.#options;
    const afterSignal = this.#signalled;
    this.#sent += 1;
    this.#inFlight += 1;
    return new Promise((resolve) => {
      let settled = false;
      let use: SocketUse | undefined;
      const finish = (outcome: Omit<LoadOutcome, 'reused' | 'afterSignal'>) => {
        if (settled) return;
        settled = true;
        this.#inFlight -= 1;
        clearTimeout(timer);
        if (use !== undefined) {
          use.busy = false;
          if (outcome.answered) {
            use.lastAnswerAt = performance.now();
            use.lastAnswerFrom = this.#loop.earliest(use.lastAnswerAt);
          } else use.spent = true;
        }
        resolve({ reused: req.reusedSocket, afterSignal, ...outcome });
      };
      const req = request(
        {
          host: endpoint.host,
          port: endpoint.port,
          path,
          agent,
          headers: { 'user-agent': 'apprunner-kit-check' },
        },
        (res) => {
          if (use !== undefined) use.saidClose = String(res.headers.connection).toLowerCase() === 'close';
          res.resume();
          res.once('end', () => finish({ answered: true, status: res.statusCode ?? 0 }));
          res.once('error', (error) => finish({ answered: false, error: errorName(error) }));
          res.once('close', () => {
            if (!res.complete) finish({ answered: false, error: 'incomplete answer' });
          });
        },
      );
      const timer = setTimeout(() => {
        finish({ answered: false, error: 'timeout' }); // marks its socket spent before the destroy
        req.destroy();
      }, requestTimeoutMs);
      req.once('error', (error) => finish({ answered: false, error: errorName(error) }));
      req.once('socket', (socket) => {
        use = this.#use(socket);
        use.busy = true;
      });
      req.end();
    });
  }
}
