import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import type { DaemonEndpoint } from '../../config/tracing.js';
import type { DaemonStatus } from './daemon-status.js';

const protocolHeader = '{"format":"json","version":1}\n';
/** The largest UDP payload over IPv4; the daemon reads datagrams of up to 64 KiB. */
const maxDatagram = 65_507;
/** Datagrams kept while the socket connects; more are dropped. */
const maxQueued = 256;
/** How long after a failed connect (an unknown host name) the next send tries again. */
const reconnectDelayMs = 5_000;
/** Sends without an error, at least this long after the last one, before the daemon counts as back. */
const recoverySends = 3;
const recoveryQuietMs = 1_000;

const traceIdPattern = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
const entityIdPattern = /^[0-9a-f]{16}$/;

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
 * then the document). One socket, `connect()`ed to the daemon once (one DNS lookup, not one per
 * datagram as the SDK's own emitter does) and `unref()`ed. Connecting is also what lets the kernel
 * report a daemon that is not there: the ICMP "port unreachable" comes back as `ECONNREFUSED`, which
 * {@link DaemonStatus} logs once per outage. A send never waits and never throws: a daemon that is
 * absent costs a request what a daemon that is there costs.
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
  #pending = 0;
  #idle: (() => void)[] = [];
  #okSinceError = 0;
  #lastErrorAt = 0;
  #closed = false;
  #reported = new Set<string>();

  constructor(endpoint: DaemonEndpoint, status: DaemonStatus, logger: Logger) {
    this.#endpoint = endpoint;
    this.#status = status;
    this.#logger = logger;
  }

  /**
   * Sends one document, serialised by `format` only once its ids are known to be well formed;
   * drops it (logged once per kind) otherwise.
   */
  send(ids: DocumentIds, parentRequired: boolean, format: () => string): void {
    if (this.#closed) return;
    const malformed = malformedIds(ids, parentRequired);
    if (malformed !== undefined) {
      this.#once(`malformed ${malformed}`, `tracing: a segment with a malformed ${malformed} was dropped`);
      return;
    }
    const message = Buffer.from(protocolHeader + format());
    if (message.length > maxDatagram) {
      this.#once(
        'too large',
        `tracing: a segment of ${message.length} bytes was dropped, larger than a UDP datagram (${maxDatagram})`,
      );
      return;
    }
    if (this.#connected) {
      this.#write(message);
      return;
    }
    if (this.#queue.length < maxQueued) this.#queue.push(message);
    if (this.#socket === undefined && Date.now() >= this.#retryAt) this.#connect();
  }

  /** Resolves once every datagram handed to the socket has been sent, or after `timeoutMs`. */
  flush(timeoutMs = 1_000): Promise<void> {
    if (this.#pending === 0 && (this.#queue.length === 0 || this.#socket === undefined)) {
      return Promise.resolve();
    }
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
    this.#queue = [];
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
    const socket = createSocket('udp4');
    this.#socket = socket;
    socket.unref();
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (socket !== this.#socket) return;
      if (this.#connected) {
        // An ICMP error for an earlier datagram: the daemon is not there (ECONNREFUSED).
        this.#failed(error);
        return;
      }
      this.#disconnect(socket, error);
    });
    try {
      socket.connect(this.#endpoint.port, this.#endpoint.host, () => {
        if (socket !== this.#socket) return;
        this.#connected = true;
        const queued = this.#queue;
        this.#queue = [];
        for (const message of queued) this.#write(message);
        this.#settle();
      });
    } catch (error) {
      this.#disconnect(socket, error);
    }
  }

  /** A connect failed (say the host name does not resolve): drop what waits, try again later. */
  #disconnect(socket: Socket, error: unknown): void {
    this.#socket = undefined;
    this.#connected = false;
    this.#retryAt = Date.now() + reconnectDelayMs;
    this.#queue = [];
    try {
      socket.close();
    } catch {
      // already closed
    }
    this.#failed(error);
    this.#settle();
  }

  #write(message: Buffer): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    this.#pending += 1;
    if (this.#status.down) this.#status.sentWhileDown();
    try {
      socket.send(message, (error) => {
        this.#pending -= 1;
        if (error) this.#failed(error);
        else this.#succeeded();
        this.#settle();
      });
    } catch (error) {
      this.#pending -= 1;
      this.#failed(error);
    }
  }

  #failed(error: unknown): void {
    this.#okSinceError = 0;
    this.#lastErrorAt = Date.now();
    if ((error as { code?: unknown } | null)?.code === 'EMSGSIZE') {
      this.#once('too large', 'tracing: a segment was dropped, larger than the network allows (EMSGSIZE)');
      return;
    }
    this.#status.failed('udp', error);
  }

  #succeeded(): void {
    this.#okSinceError += 1;
    // With the daemon absent, sends alternate between "sent" and the refused error of the one
    // before: several quiet sends in a row, well after the last error, mean it is back.
    if (
      this.#status.down &&
      this.#okSinceError >= recoverySends &&
      Date.now() - this.#lastErrorAt >= recoveryQuietMs
    ) {
      this.#status.succeeded('udp');
    }
  }

  #settle(): void {
    if (this.#pending > 0 || (this.#queue.length > 0 && this.#socket !== undefined)) return;
    for (const done of this.#idle.splice(0)) done();
  }

  #once(key: string, message: string): void {
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#logger.warn({ tracing: { daemon: `${this.#endpoint.host}:${this.#endpoint.port}` } }, message);
  }
}
