import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import { Server as NetServer, Socket as NetSocket, type Socket } from 'node:net';
import { type TLSSocket, Server as TlsServer } from 'node:tls';
import { symbolSlot } from '../internal/symbol-slot.js';
import { watchCloseCalls } from './close-calls.js';
import type { OpenRequest } from './open-responses.js';

interface SocketState {
  /** Responses on this socket that have not finished; counted from the drain on. */
  active: number;
  idleTimer: NodeJS.Timeout | undefined;
  /** The response the drain said `Connection: close` on: moved to a request pipelined behind it. */
  closing?: ServerResponse | undefined;
}

/** The response a socket is writing now: Node's own pointer, set from the request to the response's end. */
function currentResponse(socket: Socket): ServerResponse | undefined {
  return (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
}

/**
 * Whether `res` answers the last request Node parsed on `socket`: no request is pipelined behind it
 * (Node's parser keeps the last request it began, `parser.incoming`, until it begins another).
 */
function answersLastRequest(socket: Socket, res: ServerResponse): boolean {
  const last = (socket as Socket & { parser?: { incoming?: unknown } | null }).parser?.incoming;
  return last === undefined || last === null || last === res.req;
}

/**
 * Whether `socket` was handed to an `'upgrade'` listener (a WebSocket): Node then frees its HTTP
 * parser, while an idle keep-alive socket keeps one. Read rather than listened for, because adding an
 * `'upgrade'` listener changes what Node does with upgrade requests (it destroys them when none).
 */
function isUpgraded(socket: Socket): boolean {
  return (socket as Socket & { parser?: unknown }).parser === null;
}

/** The port `server` listens on; undefined when it does not (a closed server has no address). */
export function portOf(server: Server): number | undefined {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : undefined;
}

/** A server the kit drains: of `node:http`, `node:https` or `node:http2`. */
export type ManagedServer = Server | Http2Server | Http2SecureServer;

/** What the tracker uses of an HTTP/2 session (`node:http2`), the connection of a `http2: true` Fastify. */
interface Http2SessionLike {
  readonly closed: boolean;
  close(): void;
  destroy(): void;
  on(
    event: 'stream',
    listener: (
      stream: { once(event: 'close', listener: () => void): void },
      headers: Readonly<Record<string, unknown>>,
    ) => void,
  ): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Tracks the sockets of one `http.Server` and drains them without dropping a request (DESIGN.md,
 * "the keep-alive race"):
 *
 * 1. stop accepting connections, but leave open sockets alone (`net.Server#close`, not
 *    `http.Server#close`, which on Node >= 19 also closes idle sockets at once and on Node 20 stops
 *    the header/request timeout checker);
 * 2. every response not yet started, and every request that still arrives on an open socket, is
 *    answered with `Connection: close`, so Node closes that socket once the response is written;
 * 3. a socket with nothing in flight is closed only after it stayed idle for `idleGraceMs`: a client
 *    that was writing its next request on it at the moment of the drain gets that request served.
 *
 * Until the drain it costs nothing per request: it only keeps the set of open sockets (one listener
 * per connection), and learns which have a response in flight from Node's own bookkeeping. Requests
 * a client pipelined on one socket (several sent before the first answer; no load balancer does,
 * a direct client or a load tool may) have all reached the app: each is answered, in turn, and only
 * the last one's response says `Connection: close` (RFC 9112: no request after it is processed), so
 * that Node does not close the socket before the answers queued behind it.
 *
 * An upgraded socket (WebSocket) is the app's to close, on `runtime.signal`, or its framework's (the
 * drain reports the requests drained without it, so that Fastify's `preClose` hooks may close it); one
 * upgraded after that signal (a client that reconnects during the drain delay), which the app's
 * listener never saw, is closed at the idle grace once the drain begins.
 *
 * On an HTTPS server the request and Node's `_httpMessage` live on the TLS socket, not on the TCP
 * socket `'connection'` hands over: a TCP socket is followed until its handshake completes, then the
 * TLS socket stands for it (`'secureConnection'`), so a response in flight over TLS is never taken
 * for an idle socket.
 *
 * An HTTP/2 server (`node:http2`, Fastify's `http2: true`) multiplexes requests as streams of one
 * session per connection, and has no `Connection: close`: at the drain each session is sent a GOAWAY
 * (`session.close()`), which lets its streams in flight finish and tells the client to open no new one
 * (a stream the client sent after it is refused, and the client knows it may retry it elsewhere,
 * unlike a request on an HTTP/1 socket closed as idle), and its socket closes with it. Its HTTP/1
 * connections (`allowHTTP1`) are drained as above.
 *
 * A server adopted after it started listening has sockets the tracker never saw open. It learns
 * such a socket from its next request, and at the drain from Node's own list of the server's
 * connections (the one `closeAllConnections` reads), so that one that never sent a request is closed
 * after the idle grace too; an HTTP/2 server's sessions, from Node's set of them (Node 24 and later:
 * on Node 22, adopt an HTTP/2 server before `listen()`). Where that list is not found, the sockets it
 * still does not know are closed by `server.closeIdleConnections()` once per idle grace (on Node 22
 * and 24, only those that sent a request), so most never hold the drain to the deadline.
 */
export class ConnectionTracker {
  readonly #server: Server;
  readonly #sockets = new Map<Socket, SocketState>();
  #idleGraceMs = 0;
  #drained: Promise<void> | undefined;
  #resolveDrained: (() => void) | undefined;
  /** Settles once no socket is left but upgraded ones: the requests are drained. */
  #requestsDrained: Promise<void> | undefined;
  #resolveRequestsDrained: (() => void) | undefined;
  /** The requests are drained: a `server.close()` from now on closes no socket the drain still holds. */
  #requestsDone = false;
  #listenerClosed = false;
  /** The server listened before the tracker was made: some of its sockets are unknown. */
  readonly #adoptedLate: boolean;
  #sweeper: NodeJS.Timeout | undefined;
  /** A server of `node:http2`: it has no `closeAllConnections`, and its connections carry sessions. */
  readonly #http2: boolean;
  readonly #sessions = new Set<Http2SessionLike>();
  /** HTTP/2 streams (requests) in flight, each with its method and path as they arrived. */
  readonly #streams = new Map<object, Readonly<Record<string, unknown>>>();
  /** The sockets upgraded when `runtime.signal` aborted: the app's to close; any other, the drain's. */
  #upgradedAtSignal: WeakSet<Socket> | undefined;

  /** @param server - of `node:http`, `node:https` or `node:http2` (told apart here). */
  constructor(server: ManagedServer) {
    // An HTTP/2 server is a net.Server too; what it lacks of http.Server is checked before use.
    this.#server = server as Server;
    this.#adoptedLate = server.listening;
    this.#http2 = typeof (server as Partial<Server>).closeAllConnections !== 'function';
    server.on('connection', this.#onConnection);
    if (server instanceof TlsServer) server.on('secureConnection', this.#onSecureConnection);
    if (this.#adoptedLate) server.on('request', this.#onRequestOfAdopted);
    if (this.#http2) server.on('session', this.#onSession);
  }

  /** Open sockets, idle or not. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Open sockets that were upgraded (WebSocket and other `Upgrade:` protocols). */
  get upgraded(): number {
    let count = 0;
    for (const socket of this.#sockets.keys()) if (isUpgraded(socket) && !socket.destroyed) count++;
    return count;
  }

  /** Responses in flight on this server's sockets. */
  get inFlight(): number {
    let count = this.#streams.size;
    if (this.draining) {
      for (const state of this.#sockets.values()) count += state.active;
    } else {
      // An upgraded socket may keep the response it was upgraded from (`@fastify/websocket`'s).
      for (const socket of this.#sockets.keys())
        if (currentResponse(socket) !== undefined && !isUpgraded(socket)) count++;
    }
    return count;
  }

  /** Whether the server listens (not closed, by the drain or by anyone else). */
  get listening(): boolean {
    return this.#server.listening;
  }

  /** True once {@link drain} was called. */
  get draining(): boolean {
    return this.#drained !== undefined;
  }

  /**
   * Notes the sockets upgraded now, when `runtime.signal` aborts: the app closes those on it. One
   * upgraded later is closed by the drain. Only the first call counts.
   */
  signalled(): void {
    this.#upgradedAtSignal ??= new WeakSet([...this.#sockets.keys()].filter(isUpgraded));
  }

  /**
   * Stops accepting connections and closes every socket once its last response is written, or after
   * it stayed idle for `idleGraceMs`. Resolves when the server has closed. Safe to call twice.
   */
  drain(idleGraceMs: number): Promise<void> {
    if (this.#drained !== undefined) return this.#drained;
    this.signalled();
    this.#idleGraceMs = idleGraceMs;
    this.#drained = new Promise<void>((resolve) => {
      this.#resolveDrained = resolve;
    });
    this.#requestsDrained = new Promise<void>((resolve) => {
      this.#resolveRequestsDrained = resolve;
    });
    // Prepended so that `Connection: close` is set before the app's handler can write the headers.
    this.#server.prependListener('request', this.#onRequest);
    if (this.#server.listening) {
      // The callback runs on the server's 'close' event: no longer listening and no socket left.
      NetServer.prototype.close.call(this.#server, () => {
        this.#listenerClosed = true;
        this.#settleIfDrained();
      });
    } else {
      this.#listenerClosed = true;
    }
    const openedBefore = this.#adoptedLate ? this.#openedBefore() : [];
    for (const socket of openedBefore) if (!this.#sockets.has(socket)) this.#track(socket);
    if (this.#adoptedLate) {
      for (const session of this.#sessionsOpenedBefore())
        if (!this.#sessions.has(session)) this.#onSession(session);
    }
    for (const session of this.#sessions) session.close();
    for (const [socket, state] of this.#sockets) {
      if (isUpgraded(socket)) {
        // Open work the app closes on the signal, or the deadline does; upgraded since, it never will.
        if (!this.#upgradedAtSignal?.has(socket)) this.#closeWhenIdle(socket, state);
        continue;
      }
      if (this.#carriesSession(socket)) continue; // closes with its session, after its GOAWAY
      const res = currentResponse(socket);
      if (res === undefined) {
        this.#closeWhenIdle(socket, state);
        continue;
      }
      this.#closeAfterIfLast(socket, state, res);
      this.#follow(socket, state, res);
    }
    if (this.#adoptedLate && !this.#http2 && openedBefore.length === 0) {
      this.#sweeper = setInterval(() => this.#server.closeIdleConnections(), Math.max(1, idleGraceMs));
      this.#sweeper.unref();
    }
    this.#settleIfDrained();
    return this.#drained;
  }

  /**
   * Watches for a close of the server that is not the drain's, and calls, with the port the server
   * listened on: `closed` when the server has closed and the tracker was not draining (the app's own
   * `server.close()` while it served); `closedWhileDraining` as soon as `server.close()` is called
   * from `runtime.signal` on until the requests are drained (see {@link watchCloseCalls}: the call
   * then only stops accepting connections), with the frame that called it. Returns the function that
   * removes what it added.
   */
  watchForeignClose(
    closed: (port: number | undefined) => void,
    closedWhileDraining: (port: number | undefined, calledFrom: string | undefined) => void,
  ): () => void {
    // Read while it listens: by its 'close' the server has no address left.
    let port = portOf(this.#server);
    const onListening = (): void => {
      port = portOf(this.#server);
    };
    const onClose = (): void => {
      if (!this.draining) closed(port);
    };
    this.#server.on('listening', onListening);
    this.#server.on('close', onClose);
    const unwatch = watchCloseCalls(
      this.#server,
      () => this.#upgradedAtSignal !== undefined && !this.#requestsDone,
      (calledFrom) => closedWhileDraining(port, calledFrom),
    );
    return () => {
      this.#server.off('listening', onListening);
      this.#server.off('close', onClose);
      unwatch();
    };
  }

  /**
   * Settles once the drain has closed every socket but the upgraded ones (WebSocket), which are open
   * work of the app's own: what a framework's close steps may then end (Fastify's `preClose` hooks
   * close `@fastify/websocket`'s clients). Settles at once when not draining.
   */
  requestsDrained(): Promise<void> {
    return this.#requestsDrained ?? Promise.resolve();
  }

  /**
   * Calls `report` with the count of connections of an adopted server that Node no longer lists as
   * HTTP ones, when there are any: WebSockets upgraded before the adoption, which the drain can never
   * see nor close. Not for an HTTP/2 server, nor where Node's list is not found.
   */
  countUnseenUpgraded(report: (count: number) => void): void {
    if (!this.#adoptedLate || this.#http2) return;
    const list = symbolSlot(this.#server, 'http.server.connections');
    if (typeof (list as { all?: unknown } | undefined)?.all !== 'function') return;
    this.#server.getConnections((error, count) => {
      const unseen = count - this.#openedBefore().length;
      if (error === null && unseen > 0) report(unseen);
    });
  }

  /**
   * The sockets of the server's connections as Node lists them (`server[kConnections].all()`, what
   * `closeAllConnections` destroys): those opened before the tracker too. Empty where not found.
   */
  #openedBefore(): Socket[] {
    const list = symbolSlot(this.#server, 'http.server.connections');
    const all = (list as { all?: () => unknown } | undefined)?.all;
    if (typeof all !== 'function') return [];
    const sockets: Socket[] = [];
    for (const connection of all.call(list) as { socket?: unknown }[]) {
      if (connection?.socket instanceof NetSocket) sockets.push(connection.socket);
    }
    return sockets;
  }

  /**
   * The HTTP/2 sessions of the server as Node keeps them (`server[kSessions]`, Node 24 and later):
   * those opened before the tracker too. Empty where not found (Node 22).
   */
  #sessionsOpenedBefore(): Http2SessionLike[] {
    if (!this.#http2) return [];
    const sessions = symbolSlot(this.#server, 'sessions');
    // Node's own SafeSet, which is no `instanceof Set` here: taken as the iterable it is.
    return typeof (sessions as Iterable<unknown> | undefined)?.[Symbol.iterator] === 'function'
      ? [...(sessions as Iterable<Http2SessionLike>)]
      : [];
  }

  /**
   * The responses in flight on this server's HTTP/1 connections, those of requests the kit's listener
   * never saw included (the socket's own, as {@link inFlight} counts them), an upgraded socket's not;
   * and its HTTP/2 streams in flight, by their method and path.
   */
  openResponses(): (ServerResponse | OpenRequest)[] {
    const open: (ServerResponse | OpenRequest)[] = [];
    for (const headers of this.#streams.values()) {
      const method = headers[':method'];
      const path = headers[':path'];
      open.push({
        method: typeof method === 'string' ? method : 'unknown',
        url: typeof path === 'string' ? path : undefined,
      });
    }
    for (const socket of this.#sockets.keys()) {
      const res = currentResponse(socket);
      if (res !== undefined && !isUpgraded(socket)) open.push(res);
    }
    return open;
  }

  /** The response an HTTP/1 connection is writing now that `test` picks, if any. */
  findResponse(test: (res: ServerResponse) => boolean): ServerResponse | undefined {
    for (const socket of this.#sockets.keys()) {
      const res = currentResponse(socket);
      if (res !== undefined && test(res)) return res;
    }
    return undefined;
  }

  /** Whether `res`, the response of an HTTP/2 request (compat API), is of a stream of this server's. */
  servesHttp2(res: ServerResponse): boolean {
    if (!this.#http2) return false;
    const session = (res as { stream?: { session?: unknown } }).stream?.session;
    if (typeof session !== 'object' || session === null) return false;
    return (
      this.#sessions.has(session as Http2SessionLike) ||
      this.#sessionsOpenedBefore().includes(session as Http2SessionLike)
    );
  }

  /** Destroys every socket at once (the deadline has passed). */
  destroyAll(): void {
    for (const socket of this.#sockets.keys()) socket.destroy();
    for (const session of this.#sessions) session.destroy();
    if (!this.#http2) this.#server.closeAllConnections();
  }

  /** A new HTTP/2 connection: its streams are counted; during the drain, it is sent a GOAWAY at once. */
  readonly #onSession = (session: Http2SessionLike): void => {
    this.#sessions.add(session);
    session.once('close', () => this.#sessions.delete(session));
    session.on('stream', (stream, headers) => {
      // Node's own headers object, which the stream keeps anyway: read only if named at the drain.
      this.#streams.set(stream, headers);
      stream.once('close', () => this.#streams.delete(stream));
    });
    if (this.draining) session.close();
  };

  /**
   * Whether HTTP/2 runs on `socket`: every connection of a cleartext HTTP/2 server (its session starts
   * with it), and the TLS ones that chose `h2` (not one still in its handshake, nor one that chose
   * HTTP/1 with `allowHTTP1`).
   */
  #carriesSession(socket: Socket): boolean {
    if (!this.#http2) return false;
    return this.#server instanceof TlsServer ? (socket as TLSSocket).alpnProtocol === 'h2' : true;
  }

  readonly #onConnection = (socket: Socket): void => {
    this.#track(socket);
  };

  /** The handshake completed: the TLS socket replaces the TCP socket it wraps. */
  readonly #onSecureConnection = (socket: TLSSocket): void => {
    const tcp = (socket as TLSSocket & { _parent?: Socket | null })._parent ?? undefined;
    const replaced = tcp === undefined ? undefined : this.#sockets.get(tcp);
    if (tcp !== undefined && replaced !== undefined) {
      if (replaced.idleTimer !== undefined) clearTimeout(replaced.idleTimer);
      this.#sockets.delete(tcp);
    }
    this.#track(socket);
  };

  #track(socket: Socket): SocketState {
    // Read while the socket is open, Node keeps the peer's address: the line of a request whose
    // client went away is written after the socket closed, and still names it (`clientIp`).
    socket.remoteAddress;
    const state: SocketState = { active: 0, idleTimer: undefined };
    this.#sockets.set(socket, state);
    socket.once('close', () => {
      if (state.idleTimer !== undefined) clearTimeout(state.idleTimer);
      this.#sockets.delete(socket);
      if (this.draining) this.#settleIfDrained();
    });
    if (this.draining && !this.#carriesSession(socket)) this.#closeWhenIdle(socket, state);
    return state;
  }

  /** A request on a socket opened before a late adoption: from now on the socket is known. */
  readonly #onRequestOfAdopted = (req: IncomingMessage): void => {
    if (req.httpVersionMajor >= 2) return; // a stream: its socket stands behind its session
    if (!this.#sockets.has(req.socket)) this.#track(req.socket);
  };

  /**
   * A request that arrives during the drain: served, with `Connection: close`. One pipelined behind
   * the response in flight is answered after it, in turn (followed then): the close moves to it,
   * unless that response's head is already written.
   */
  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.httpVersionMajor >= 2) return; // a stream of a session already sent its GOAWAY
    const state = this.#sockets.get(req.socket) ?? this.#track(req.socket);
    const current = currentResponse(req.socket);
    if (current !== undefined && current !== res) {
      // Kept alive as it would have been (its head not written yet); else it closes the socket before
      // this request's turn, and Node leaves it unanswered.
      if (state.closing !== undefined && !state.closing.headersSent)
        state.closing.setHeader('connection', 'keep-alive');
      // Its turn comes once those ahead are written; it is followed, and told to close, then (its head
      // already written by then, the socket closes once idle): marked now, a quick answer would write
      // its close while queued, and a request pipelined behind it would go unanswered in turn.
      state.closing = undefined;
      return;
    }
    this.#closeAfter(state, res);
    this.#follow(req.socket, state, res);
  };

  /** `Connection: close` on `res`, when no request is pipelined behind it and its head is not written. */
  #closeAfterIfLast(socket: Socket, state: SocketState, res: ServerResponse): void {
    if (!res.headersSent && answersLastRequest(socket, res)) this.#closeAfter(state, res);
  }

  #closeAfter(state: SocketState, res: ServerResponse): void {
    res.setHeader('connection', 'close');
    state.closing = res;
  }

  /**
   * Counts `res` in flight on `socket` until it closes; then follows the response Node answers next
   * on it (a pipelined request's), or lets the socket close once idle.
   */
  #follow(socket: Socket, state: SocketState, res: ServerResponse): void {
    if (state.idleTimer !== undefined) {
      clearTimeout(state.idleTimer);
      state.idleTimer = undefined;
    }
    state.active++;
    res.once('close', () => {
      state.active--;
      if (state.active !== 0 || socket.destroyed) return;
      const next = currentResponse(socket);
      if (next === undefined || next === res || isUpgraded(socket)) {
        this.#closeWhenIdle(socket, state);
        return;
      }
      if (state.closing !== next) this.#closeAfterIfLast(socket, state, next);
      this.#follow(socket, state, next);
    });
  }

  #closeWhenIdle(socket: Socket, state: SocketState): void {
    if (state.idleTimer !== undefined) clearTimeout(state.idleTimer);
    state.idleTimer = setTimeout(() => {
      // Upgraded after `runtime.signal` aborted (which the app closes its WebSockets on): no one
      // else would close it before the deadline.
      if (state.active === 0) socket.destroy();
    }, this.#idleGraceMs);
    state.idleTimer.unref();
  }

  #settleIfDrained(): void {
    if (this.#resolveRequestsDrained !== undefined && this.#onlyUpgradedLeft()) {
      this.#requestsDone = true;
      this.#resolveRequestsDrained();
      this.#resolveRequestsDrained = undefined;
    }
    if (!this.#listenerClosed || this.#sockets.size > 0 || this.#resolveDrained === undefined) return;
    clearInterval(this.#sweeper);
    this.#stopTimeoutChecker();
    this.#resolveDrained();
    this.#resolveDrained = undefined;
  }

  #onlyUpgradedLeft(): boolean {
    for (const socket of this.#sockets.keys()) if (!isUpgraded(socket)) return false;
    return true;
  }

  // `http.Server#close` would stop Node's header/request timeout checker, but also close idle
  // sockets at once; we used `net.Server#close`, so clear the checker ourselves once all is closed.
  #stopTimeoutChecker(): void {
    const checker = symbolSlot(this.#server, 'http.server.connectionsCheckingInterval');
    if (checker !== undefined) clearInterval(checker as NodeJS.Timeout);
  }
}
