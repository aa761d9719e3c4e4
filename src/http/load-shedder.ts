import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';
import { heapLimitWarning } from '../internal/heap-limit.js';
import { isPreflight, setShedCorsHeaders, shedCorsHeaders, shedOrigin } from './shed-cors.js';

/** Writes a shed response of the app's own (`loadShedding.respond`). */
export type ShedResponder = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** The event-loop delay histogram's sampling interval. */
const delayResolutionMs = 10;

/** Memory pressure ends once the figure is below this share of its limit. */
const memoryRecoveryShare = 0.9;

/** Whether a memory figure is over its limit now, with hysteresis: on above it, off below 90 % of it. */
function over(was: boolean, value: number | undefined, limit: number | undefined): boolean {
  if (value === undefined || limit === undefined) return false;
  return was ? value >= limit * memoryRecoveryShare : value > limit;
}

/** Settings of the {@link LoadShedder}, from the `loadShedding` option. */
export interface LoadShedderSettings {
  /** Shed once this many requests are in flight. */
  readonly maxInFlight: number | undefined;
  /** Shed while the longest event-loop delay of the last interval is above this (ms). */
  readonly maxEventLoopDelayMs: number | undefined;
  /** Shed while the event loop was busier than this share of the last interval (0–1). */
  readonly maxEventLoopUtilization: number | undefined;
  /** Shed while the V8 heap in use is above this (bytes), until below 90 % of it. */
  readonly maxHeapUsedBytes?: number | undefined;
  /** Shed while the resident set size is above this (bytes), until below 90 % of it. */
  readonly maxRssBytes?: number | undefined;
  /** Length of one measurement interval. */
  readonly intervalMs: number;
  /** `Retry-After` of a shed response, in seconds. */
  readonly retryAfterSeconds: number;
  /** Writes the shed response instead of the kit's JSON 503. */
  readonly respond?: ShedResponder | undefined;
  /** Requests never refused (`loadShedding.exempt`, made a predicate that never throws). */
  readonly exempt?: ((req: IncomingMessage) => boolean) | undefined;
  /**
   * `loadShedding.cors`: CORS preflights are let through, and a shed request with an `Origin` is
   * answered with CORS headers that let its page read the 503. On unless `false`.
   */
  readonly cors?: boolean | undefined;
  /** The header the request id is echoed in, exposed to a page with the rest (`undefined`: off). */
  readonly requestIdHeader?: string | undefined;
}

/** Counts for scaling decisions: `runtime.stats()`. */
export interface LoadStats {
  /** Requests in flight now (health requests excluded). */
  readonly inFlight: number;
  /**
   * Requests that ended since start, answered or not (a client that left counts too); health
   * requests and shed ones excluded.
   */
  readonly served: number;
  /** Requests answered 503 by load shedding since start. */
  readonly shed: number;
  /** The instance is under pressure now (shedding on event-loop or memory grounds). */
  readonly pressure: boolean;
  /** Open upgraded connections (WebSocket), counted apart from requests. */
  readonly upgraded: number;
}

/**
 * Load shedding: turns a request away with `503` and `Retry-After` when the instance already has as
 * many requests in flight as it may, or while its event loop or its memory is under pressure, so
 * that a spike gets fast refusals (which App Runner's proxy and clients retry elsewhere) instead of
 * slow timeouts for everyone — or, for memory, an out-of-memory crash that drops every request in
 * flight. Pressure is measured per interval, not per request, and with hysteresis: it begins when the
 * delay (or utilisation) of an interval exceeds its limit and ends only after a whole interval below
 * half the delay limit (or 0.1 under the utilisation limit); memory pressure begins above a limit and
 * ends below 90 % of it. So it does not flap. Each cause says when it begins and ends, on one line.
 */
export class LoadShedder {
  readonly #settings: LoadShedderSettings;
  readonly #logger: Logger | undefined;
  readonly #headers: Record<string, string>;
  /** The same, closing the connection: for a refused request whose large body is not read. */
  readonly #closingHeaders: Record<string, string>;
  readonly #body: Buffer;
  /** The CORS headers of a shed answer, but the origin; `undefined` with `loadShedding.cors: false`. */
  readonly #corsHeaders: Readonly<Record<string, string>> | undefined;
  readonly #histogram: ReturnType<typeof monitorEventLoopDelay> | undefined;
  readonly #timer: NodeJS.Timeout | undefined;
  #lastUtilization = performance.eventLoopUtilization();
  #loopPressure = false;
  #memoryPressure = false;
  #heapOver = false;
  #rssOver = false;
  #shed = 0;
  /** Exempt requests let in and not yet closed: not counted against `maxInFlight`. */
  #exemptInFlight = 0;
  #respondFailed = false;

  constructor(settings: LoadShedderSettings, logger?: Logger) {
    this.#settings = settings;
    this.#logger = logger;
    // Serialised once: a refusal must cost next to nothing, it happens when the instance is busiest.
    this.#body = Buffer.from('{"status":503,"error":"Service Unavailable","reason":"overloaded"}');
    this.#headers = {
      'content-type': 'application/json',
      'content-length': String(this.#body.length),
      'retry-after': String(settings.retryAfterSeconds),
      'cache-control': 'no-store',
    };
    this.#closingHeaders = { ...this.#headers, connection: 'close' };
    // Once at start: a threshold the heap never reaches would let the process die of out-of-memory
    // without shedding a request.
    const overLimit = heapLimitWarning(settings.maxHeapUsedBytes, {
      option: 'loadShedding.maxHeapUsedBytes',
      missed: 'without shedding',
      roomFor: 'the requests in flight',
    });
    if (overLimit !== undefined) logger?.warn(overLimit.fields, overLimit.message);
    this.#corsHeaders = settings.cors === false ? undefined : shedCorsHeaders(settings.requestIdHeader);
    if (
      settings.maxEventLoopDelayMs !== undefined ||
      settings.maxEventLoopUtilization !== undefined ||
      settings.maxHeapUsedBytes !== undefined ||
      settings.maxRssBytes !== undefined
    ) {
      if (settings.maxEventLoopDelayMs !== undefined) {
        this.#histogram = monitorEventLoopDelay({ resolution: delayResolutionMs });
        this.#histogram.enable();
      }
      this.#timer = setInterval(() => this.#measure(), settings.intervalMs);
      this.#timer.unref();
    }
  }

  /** Requests answered 503 so far. */
  get shed(): number {
    return this.#shed;
  }

  /** The event loop or the memory is under pressure now. */
  get pressure(): boolean {
    return this.#loopPressure || this.#memoryPressure;
  }

  /** True when a request arriving with `inFlight` requests already in flight must be turned away. */
  shouldShed(inFlight: number): boolean {
    const max = this.#settings.maxInFlight;
    return this.#loopPressure || this.#memoryPressure || (max !== undefined && inFlight >= max);
  }

  /**
   * True when `req`, arriving with `inFlight` requests in flight (exempt ones among them), is let in.
   * An exempt request (`loadShedding.exempt`) always is, and is not counted against `maxInFlight`
   * until its response closes: a long poll or a webhook it lets in must not fill the slots of the
   * others. With `maxInFlight`, `exempt` is asked of every request for that; without it, only of
   * one that would be refused. A CORS preflight is let in too (unless `cors: false`), and counted:
   * the app's CORS handling answers it at once. Asked only of a request that would be refused.
   */
  admits(req: IncomingMessage, res: ServerResponse, inFlight: number): boolean {
    const { maxInFlight, exempt } = this.#settings;
    if (exempt === undefined) return !this.shouldShed(inFlight) || this.#letsThrough(req);
    if (maxInFlight === undefined) return !this.shouldShed(inFlight) || this.#letsThrough(req) || exempt(req);
    if (exempt(req)) {
      this.#exemptInFlight++;
      res.once('close', () => this.#exemptInFlight--);
      return true;
    }
    return !this.shouldShed(inFlight - this.#exemptInFlight) || this.#letsThrough(req);
  }

  /** A request let in although over a limit: a CORS preflight, unless `cors: false`. */
  #letsThrough(req: IncomingMessage): boolean {
    return this.#corsHeaders !== undefined && isPreflight(req);
  }

  /**
   * Answers `res` with the pre-serialised 503, or through `respond` (status 503 and `Retry-After`
   * set first, and the CORS headers for a request with an `Origin`, unless `cors: false`). When
   * `respond` throws or returns having started no response, the kit's 503 goes out (with the headers
   * set before `respond` ran, such as the request id, and its CORS headers); an async `respond` that
   * rejects gets the response ended, or its connection closed when the headers already went out.
   * A request with a body over 64 KiB or of unknown length (an upload) gets `Connection: close`:
   * kept alive, Node would read the whole body only to drop it, at the worst moment. Its connection
   * lingers a little before it closes, so that a reset does not erase the 503.
   */
  reject(req: IncomingMessage, res: ServerResponse): void {
    this.#shed++;
    // HTTP/1 only: an HTTP/2 stream has no connection of its own (and no `Connection` header).
    const closing = req.httpVersionMajor === 1 && hasLargeBody(req);
    if (closing) lingerOnClose(req.socket);
    const cors = this.#corsHeaders;
    const origin = cors === undefined ? undefined : shedOrigin(req);
    const respond = this.#settings.respond;
    if (respond !== undefined) {
      const before = new Set(res.getHeaderNames());
      res.statusCode = 503;
      res.setHeader('retry-after', this.#headers['retry-after']!);
      if (closing) res.setHeader('connection', 'close');
      if (origin !== undefined) setShedCorsHeaders(res, cors!, origin);
      try {
        const result: unknown = respond(req, res);
        if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
          // Async: it answers when it is ready; a rejection must neither escape nor leave it hanging.
          Promise.resolve(result).catch((error: unknown) => {
            this.#respondError(error);
            if (res.writableEnded) return;
            if (res.headersSent) res.destroy();
            else res.end();
          });
          return;
        }
        if (res.headersSent || res.writableEnded) return;
      } catch (error) {
        this.#respondError(error);
        if (res.writableEnded) return;
        if (res.headersSent) {
          res.destroy();
          return;
        }
      }
      // Back to the kit's answer: drop what `respond` set, keep what was there before it.
      for (const name of res.getHeaderNames()) if (!before.has(name)) res.removeHeader(name);
    }
    const headers = closing ? this.#closingHeaders : this.#headers;
    res.writeHead(
      503,
      origin === undefined ? headers : { ...headers, ...cors, 'access-control-allow-origin': origin },
    );
    res.end(this.#body);
  }

  #respondError(error: unknown): void {
    if (this.#respondFailed) return;
    this.#respondFailed = true;
    this.#logger?.error(
      { err: error },
      'loadShedding.respond threw: the kit answers its own 503 (logged once)',
    );
  }

  /** Stops measuring. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#histogram?.disable();
  }

  #measure(): void {
    this.#measureLoop();
    this.#measureMemory();
  }

  #measureMemory(): void {
    const { maxHeapUsedBytes, maxRssBytes } = this.#settings;
    if (maxHeapUsedBytes === undefined && maxRssBytes === undefined) return;
    const heapUsedBytes = maxHeapUsedBytes === undefined ? undefined : getHeapStatistics().used_heap_size;
    const rssBytes = maxRssBytes === undefined ? undefined : process.memoryUsage.rss();
    // Each figure keeps its own state: one that went over ends only below 90 % of its own limit, so
    // a figure that never went over (RSS hovering under its limit) cannot hold the other one's on.
    this.#heapOver = over(this.#heapOver, heapUsedBytes, maxHeapUsedBytes);
    this.#rssOver = over(this.#rssOver, rssBytes, maxRssBytes);
    const pressure = this.#heapOver || this.#rssOver;
    if (!this.#memoryPressure && pressure) {
      this.#memoryPressure = true;
      this.#logger?.warn(
        { heapUsedBytes, rssBytes, maxHeapUsedBytes, maxRssBytes },
        'memory under pressure: shedding load',
      );
    } else if (this.#memoryPressure && !pressure) {
      this.#memoryPressure = false;
      this.#logger?.info(
        { heapUsedBytes, rssBytes, maxHeapUsedBytes, maxRssBytes, shed: this.#shed },
        'memory recovered: no longer shedding',
      );
    }
  }

  #measureLoop(): void {
    const { maxEventLoopDelayMs, maxEventLoopUtilization } = this.#settings;
    if (maxEventLoopDelayMs === undefined && maxEventLoopUtilization === undefined) return;
    let over = false;
    let calm = true;
    let delayMs: number | undefined;
    let utilization: number | undefined;
    if (this.#histogram !== undefined && maxEventLoopDelayMs !== undefined) {
      // The histogram records the time between its samples: the delay is what exceeds the resolution.
      delayMs = Math.max(0, this.#histogram.max / 1e6 - delayResolutionMs);
      this.#histogram.reset();
      if (delayMs > maxEventLoopDelayMs) over = true;
      if (delayMs > maxEventLoopDelayMs / 2) calm = false;
    }
    if (maxEventLoopUtilization !== undefined) {
      const now = performance.eventLoopUtilization();
      utilization = performance.eventLoopUtilization(now, this.#lastUtilization).utilization;
      this.#lastUtilization = now;
      if (utilization > maxEventLoopUtilization) over = true;
      if (utilization > maxEventLoopUtilization - 0.1) calm = false;
    }
    if (!this.#loopPressure && over) {
      this.#loopPressure = true;
      this.#logger?.warn(
        { eventLoopDelayMs: delayMs, eventLoopUtilization: utilization },
        'event loop under pressure: shedding load',
      );
    } else if (this.#loopPressure && calm) {
      this.#loopPressure = false;
      this.#logger?.info(
        { eventLoopDelayMs: delayMs, eventLoopUtilization: utilization, shed: this.#shed },
        'event loop recovered: no longer shedding',
      );
    }
  }
}

/** Bodies up to this size are read and dropped on a kept-alive connection; larger ones close it. */
const keptBodyBytes = 64 * 1024;

/** The request has a body over {@link keptBodyBytes}, or one of unknown length (chunked). */
function hasLargeBody(req: IncomingMessage): boolean {
  const { headers } = req;
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && !(Number(length) <= keptBodyBytes);
}

/** What a refused upload's connection reads and drops after the answer, at most, before it closes. */
const lingerBytes = 4 * 1024 * 1024;
const lingerMs = 1_000;

/**
 * Makes the close Node does after a `Connection: close` answer a lingering one: the answer is sent
 * and the connection half-closed at once, then what the client still sends is read and dropped for
 * at most {@link lingerBytes} or {@link lingerMs}. Closed with bytes unread, the connection would be
 * reset at once, and a reset can erase the 503 before the client has read it (RFC 9112, 9.6).
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function lingeringDestroySoon(this: Socket): void {
    if (this.writable) this.end();
    const start = this.bytesRead;
    const started = performance.now();
    const timer = setInterval(() => {
      if (this.destroyed) clearInterval(timer);
      else if (this.bytesRead - start > lingerBytes || performance.now() - started > lingerMs) {
        clearInterval(timer);
        this.destroy();
      }
    }, 25);
    timer.unref();
    this.once('close', () => clearInterval(timer));
  };
}
