import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { DaemonEndpoint } from '../../config/tracing.js';
import { runOutsideRequestContext } from '../../http/context.js';
import { validSpanIdPattern, validXrayTraceIdPattern } from '../id-patterns.js';
import type { DaemonStatus } from './daemon-status.js';
import { OversizeReport } from './oversize-report.js';

const protocolHeader = '{"format":"json","version":1}\n';
/** The largest UDP payload over IPv4; the daemon reads datagrams of up to 64 KiB. */
const maxDatagram = 65_507;
/** The largest document that fits in a datagram after the protocol's header line, in UTF-8 bytes. */
export const maxDocumentBytes = maxDatagram - Buffer.byteLength(protocolHeader);
/**
 * Bytes kept while the socket connects (it connects when the backend starts: a DNS lookup at most);
 * more are dropped, and logged. Bounded in bytes, not datagrams: a segment sent in parts is hundreds
 * of small ones, its own document last.
 */
const maxQueuedBytes = 1024 * 1024;
/** How long after a failed connect (an unknown host name) the next send tries again. */
const reconnectDelayMs = 5_000;
/**
 * How often, while segments are sent, a daemon given by host name is looked up again. A daemon that
 * moved is found when its old address refuses; one whose old address drops datagrams silently (no
 * host there any more) only this way. The SDK's own emitter looks the name up on every datagram.
 */
const relookupIntervalMs = 30_000;
/** While the daemon does not answer: one datagram sent, as a probe, every so often; the rest dropped. */
export const probeIntervalMs = 500;
/** Probes answered without an error, the last at least this long after the last error: the daemon is back. */
const recoveryProbes = 3;
const recoveryQuietMs = 1_000;

// Not all zeros (an invalid id, which X-Ray refuses), and lower case, as the SDK writes ids.
const traceIdPattern = new RegExp(validXrayTraceIdPattern.source);
const entityIdPattern = new RegExp(validSpanIdPattern.source);

/** The ids a document carries, checked before it is sent. */
export interface DocumentIds {
  readonly traceId: unknown;
  readonly id: unknown;
  /** Required for an independent subsegment, optional for a segment. */
  readonly parentId: unknown;
}

/**
 * Why `ids` must not reach the daemon, or `undefined` when they are well formed.
 *
 * @example
 * ```ts
 * malformedIds({ traceId: '1-5759e988-bd862e3fe1be46a994272793', id: 'xyz', parentId: undefined }, false); // 'id'
 * ```
 */
export function malformedIds(ids: DocumentIds, parentRequired: boolean): string | undefined {
  if (typeof ids.traceId !== 'string' || !traceIdPattern.test(ids.traceId)) return 'trace id';
  if (typeof ids.id !== 'string' || !entityIdPattern.test(ids.id)) return 'id';
  if (ids.parentId === undefined && !parentRequired) return undefined;
  if (typeof ids.parentId !== 'string' || !entityIdPattern.test(ids.parentId)) return 'parent id';
  return undefined;
}

/**
 * Sends segment documents to the X-Ray daemon over UDP, in its wire format (a JSON header line,
 * then the document). One socket, `connect()`ed to the daemon once, as the emitter is made (one DNS
 * lookup, not one per datagram as the SDK's own emitter does) and `unref()`ed. Connecting is also what lets the kernel
 * report a daemon that is not there: the ICMP "port unreachable" comes back on the socket as
 * `ECONNREFUSED`, which {@link DaemonStatus} logs once per outage.
 *
 * A send never waits and never throws. While the daemon does not answer, the emitter sends one
 * probe datagram every {@link probeIntervalMs} ms, to see it answer again, and drops the rest
 * unserialised: sending to a closed port costs Node.js an error object with a stack trace for every
 * refused datagram, measured at several µs a request, and serialising a segment no one receives
 * is waste. A daemon that is absent costs requests next to nothing.
 *
 * @example
 * ```ts
 * const emitter = new DaemonEmitter({ host: '127.0.0.1', port: 2000 }, status, logger);
 * emitter.send({ traceId: segment.trace_id, id: segment.id, parentId: segment.parent_id }, false, () => segment.format());
 * await emitter.close();
 * ```
 */
export class DaemonEmitter {
  readonly #endpoint: DaemonEndpoint;
  readonly #status: DaemonStatus;
  readonly #logger: Logger;
  #socket: Socket | undefined;
  #connected = false;
  #retryAt = 0;
  #queue: Buffer[] = [];
  #queuedBytes = 0;
  /** Datagrams dropped since the socket last connected or failed to, the queue being full. */
  #queueDrops = 0;
  /** Sends whose callback has not come yet. */
  #pending = 0;
  #idle: (() => void)[] = [];
  /** The daemon refused datagrams, and has not answered probes since. */
  #down = false;
  #nextProbeAt = 0;
  #okProbes = 0;
  #lastErrorAt = 0;
  #closed = false;
  #reported = new Set<string>();
  /** Documents larger than a datagram: cut to fit or dropped, warned about at most once a minute. */
  readonly oversize: OversizeReport;
  readonly #lookup: SocketOptions['lookup'];
  /** The daemon is given by a host name, not an address. */
  readonly #byName: boolean;
  /** When a daemon given by name is next looked up again, while connected. */
  #relookupAt = 0;
  #relooking = false;

  /**
   * Connects the socket now, so that the first traces do not wait in the queue. `lookup` (internal,
   * for tests) resolves the daemon's host name in place of `dns.lookup`.
   */
  constructor(
    endpoint: DaemonEndpoint,
    status: DaemonStatus,
    logger: Logger,
    lookup?: SocketOptions['lookup'],
  ) {
    this.#endpoint = endpoint;
    this.#status = status;
    this.#logger = logger;
    this.#lookup = lookup;
    this.#byName = isIP(endpoint.host) === 0;
    this.oversize = new OversizeReport(logger, `${endpoint.host}:${endpoint.port}`, maxDatagram);
    this.#connect();
  }

  /**
   * Sends one document, serialised by `format` only once its ids are known to be well formed (and
   * only when it is to be sent); drops it (logged once per kind) otherwise. A document larger than a
   * datagram goes to `tooLarge`, with its size in bytes, which may send it in parts or cut to fit;
   * without one, it is dropped (counted by {@link oversize}). Its size is measured once, here.
   */
  send(
    ids: DocumentIds,
    parentRequired: boolean,
    format: () => string,
    tooLarge?: (bytes: number) => void,
  ): void {
    if (this.#closed) return;
    const malformed = malformedIds(ids, parentRequired);
    if (malformed !== undefined) {
      this.#once(`malformed ${malformed}`, `tracing: a segment with a malformed ${malformed} was dropped`);
      return;
    }
    let probe = false;
    if (this.#down) {
      const now = Date.now();
      if (now < this.#nextProbeAt) {
        this.#status.droppedWhileDown();
        return;
      }
      this.#nextProbeAt = now + probeIntervalMs;
      probe = true;
    }
    const message = Buffer.from(protocolHeader + format());
    if (message.length > maxDatagram) {
      if (tooLarge !== undefined) {
        if (probe) this.#nextProbeAt = 0; // nothing was sent: the probe goes with its first part
        tooLarge(message.length);
        return;
      }
      this.oversize.dropped(message.length, typeof ids.traceId === 'string' ? ids.traceId : undefined);
      return;
    }
    if (this.#connected) {
      if (this.#byName && Date.now() >= this.#relookupAt) this.#relookup();
      this.#write(message, probe);
      return;
    }
    if (this.#queuedBytes + message.length <= maxQueuedBytes) {
      this.#queue.push(message);
      this.#queuedBytes += message.length;
    } else this.#queueFull();
    if (this.#socket === undefined && Date.now() >= this.#retryAt) this.#connect();
  }

  /** Resolves once every datagram handed to the socket has been sent, or after `timeoutMs`. */
  flush(timeoutMs = 1_000): Promise<void> {
    if (this.#settled()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      const idle = this.#idle;
      function done(): void {
        clearTimeout(timer);
        const index = idle.indexOf(done);
        if (index !== -1) idle.splice(index, 1);
        resolve();
      }
      idle.push(done);
    });
  }

  /** Sends what is queued (bounded by `timeoutMs`), then closes the socket. Safe to call twice. */
  async close(timeoutMs = 1_000): Promise<void> {
    if (this.#closed) return;
    await this.flush(timeoutMs);
    this.#closed = true;
    this.oversize.close();
    this.#takeQueue();
    const socket = this.#socket;
    this.#socket = undefined;
    this.#connected = false;
    if (socket !== undefined) {
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
    this.#settle();
  }

  #connect(): void {
    // Made by the first traced request's send(): its callbacks, for the life of the process, must not
    // carry that request's context (its id on the daemon's outage lines).
    runOutsideRequestContext(() => this.#open());
  }

  #open(): void {
    const socket = createSocket({ type: 'udp4', lookup: this.#lookup });
    this.#socket = socket;
    socket.unref();
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (socket !== this.#socket) return;
      if (this.#connected) {
        // An ICMP error for an earlier datagram: the daemon is not there (ECONNREFUSED). Given by
        // name, it may have moved (a rescheduled pod or task): the next connect looks the name up again.
        if (this.#byName) this.#disconnect(socket, error);
        else this.#failed(error);
        return;
      }
      this.#disconnect(socket, error);
    });
    try {
      // With a callback, a failed lookup comes to it, not as an 'error' event.
      socket.connect(this.#endpoint.port, this.#endpoint.host, (error?: Error) => {
        if (socket !== this.#socket) return;
        if (error !== undefined && error !== null) {
          this.#disconnect(socket, error);
          return;
        }
        this.#connected = true;
        this.#relookupAt = Date.now() + relookupIntervalMs;
        for (const message of this.#takeQueue()) this.#write(message, false);
        this.#settle();
      });
    } catch (error) {
      this.#disconnect(socket, error);
    }
  }

  /**
   * Looks the daemon's name up again in the background; when the address the socket is connected to
   * is no longer among those the name has (several, rotated, behind a headless service), the next
   * datagrams go to the first of them. A failed lookup keeps the socket: it still reaches the
   * daemon, if anything does.
   */
  #relookup(): void {
    this.#relookupAt = Date.now() + relookupIntervalMs;
    const socket = this.#socket;
    if (socket === undefined || this.#relooking) return;
    this.#relooking = true;
    const { host, port } = this.#endpoint;
    runOutsideRequestContext(() =>
      ((this.#lookup ?? dnsLookup) as unknown as LookupAll)(
        host,
        { family: 4, all: true },
        (error, answer) => {
          this.#relooking = false;
          if (error !== null || socket !== this.#socket || !this.#connected) return;
          let current: string;
          try {
            current = socket.remoteAddress().address;
          } catch {
            return;
          }
          const addresses = addressesOf(answer);
          if (addresses.length === 0 || addresses.includes(current)) return;
          this.#logger.info(
            { tracing: { daemon: `${host}:${port}`, from: current, to: addresses[0] } },
            'tracing: the X-Ray daemon now resolves to another address; segments go there',
          );
          this.#socket = undefined;
          this.#connected = false;
          try {
            socket.close();
          } catch {
            // already closed
          }
          this.#connect();
        },
      ),
    );
  }

  /** A connect failed (say the host name does not resolve): drop what waits, try again later. */
  #disconnect(socket: Socket, error: unknown): void {
    this.#socket = undefined;
    this.#connected = false;
    this.#retryAt = Date.now() + reconnectDelayMs;
    this.#status.droppedWhileDown(this.#takeQueue().length);
    try {
      socket.close();
    } catch {
      // already closed
    }
    this.#failed(error);
    this.#settle();
  }

  /** Empties the queue, and ends the period its drops were logged for. */
  #takeQueue(): Buffer[] {
    const queued = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#queueDrops = 0;
    return queued;
  }

  /** A datagram dropped, the queue full: logged once until the socket connects or fails to. */
  #queueFull(): void {
    this.#status.droppedWhileDown();
    this.#queueDrops += 1;
    if (this.#queueDrops > 1) return;
    const tracing = {
      daemon: `${this.#endpoint.host}:${this.#endpoint.port}`,
      queuedBytes: this.#queuedBytes,
    };
    // Not on the request's line: it sent the datagram one too many, not all of them.
    runOutsideRequestContext(() =>
      this.#logger.warn(
        { tracing },
        `tracing: segments are dropped while the socket to the X-Ray daemon connects (more than ${maxQueuedBytes} bytes wait; logged once per wait)`,
      ),
    );
  }

  #write(message: Buffer, probe: boolean): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    this.#pending += 1;
    try {
      socket.send(message, (error) => {
        this.#pending -= 1;
        if (error) {
          // A datagram cancelled by the close of a socket left for a new one is no daemon failure.
          if (socket === this.#socket) this.#failed(error);
        } else if (probe) this.#probeAnswered();
        this.#settle();
      });
    } catch (error) {
      this.#pending -= 1;
      this.#failed(error);
    }
  }

  #failed(error: unknown): void {
    if ((error as { code?: unknown } | null)?.code === 'EMSGSIZE') {
      this.oversize.dropped(undefined, undefined);
      return;
    }
    this.#okProbes = 0;
    this.#lastErrorAt = Date.now();
    if (!this.#down) {
      this.#down = true;
      this.#nextProbeAt = this.#lastErrorAt + probeIntervalMs;
    }
    this.#status.failed('udp', error);
  }

  #probeAnswered(): void {
    this.#okProbes += 1;
    // With the daemon absent, each probe is followed by its refusal: several quiet probes in a row,
    // well after the last error, mean it is back.
    if (this.#okProbes >= recoveryProbes && Date.now() - this.#lastErrorAt >= recoveryQuietMs) {
      this.#down = false;
      this.#okProbes = 0;
      this.#status.succeeded('udp');
    }
  }

  #settled(): boolean {
    return this.#pending === 0 && (this.#queue.length === 0 || this.#socket === undefined);
  }

  #settle(): void {
    if (!this.#settled()) return;
    for (const done of this.#idle.splice(0)) done();
  }

  #once(key: string, message: string): void {
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#logger.warn({ tracing: { daemon: `${this.#endpoint.host}:${this.#endpoint.port}` } }, message);
  }
}

/** `dns.lookup` asked for every address (a test's lookup, typed for one, may still answer one). */
type LookupAll = (
  hostname: string,
  options: { family: 4; all: true },
  callback: (error: NodeJS.ErrnoException | null, answer: unknown) => void,
) => void;

/** The addresses of a lookup's answer: `dns.lookup` with `all` gives a list; a test's lookup may give one. */
function addressesOf(answer: unknown): string[] {
  if (typeof answer === 'string') return [answer];
  if (!Array.isArray(answer)) return [];
  const addresses: string[] = [];
  for (const entry of answer as unknown[]) {
    const address = (entry as { address?: unknown } | null)?.address;
    if (typeof address === 'string') addresses.push(address);
  }
  return addresses;
}
