import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitForCondition } from './wait.js';
import {
  DEFAULT_SAMPLING_RULE,
  type SamplingRule,
  samplingRulesAnswer,
  samplingTargetsAnswer,
} from './xray/sampling.js';

export { DEFAULT_SAMPLING_RULE, type SamplingRule } from './xray/sampling.js';

const HOST = '127.0.0.1';
const TRACE_ID = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
const ENTITY_ID = /^[0-9a-f]{16}$/;

/** A document as sent, parsed from JSON. */
export type XRayDocument = Readonly<Record<string, unknown>>;

/** A segment the daemon received: a document without `type`. */
export interface CollectedSegment {
  readonly traceId: string;
  readonly id: string;
  readonly name: string;
  /** The upstream segment id (`parent_id`), set when the trace came in with a parent. */
  readonly parentId: string | undefined;
  readonly inProgress: boolean;
  readonly document: XRayDocument;
}

/** A subsegment: nested in a segment or subsegment, or sent alone with `type: "subsegment"`. */
export interface CollectedSubsegment {
  readonly traceId: string;
  readonly id: string;
  readonly name: string;
  /** The id of the segment or subsegment it belongs to. */
  readonly parentId: string;
  /** True when it arrived as its own datagram (`type: "subsegment"`), false when nested. */
  readonly independent: boolean;
  readonly inProgress: boolean;
  readonly document: XRayDocument;
}

/** A datagram the daemon dropped, with why. */
export interface MalformedDatagram {
  readonly raw: string;
  readonly reason: string;
}

/** One sampling call over TCP: the path and the JSON body the SDK posted. */
export interface SamplingRequest {
  readonly path: '/GetSamplingRules' | '/SamplingTargets';
  readonly body: unknown;
}

/** Options of {@link startXRayDaemon}. */
export interface XRayDaemonOptions {
  /** Try to put UDP and TCP on the same port number, as the real daemon does. @default true */
  readonly sharePort?: boolean;
  /** @default [DEFAULT_SAMPLING_RULE] */
  readonly samplingRules?: readonly SamplingRule[];
}

/** The X-Ray daemon stand-in: segments over UDP, the sampling proxy over TCP HTTP, both on 127.0.0.1. */
export interface XRayDaemon {
  readonly udpPort: number;
  readonly tcpPort: number;
  /** The `AWS_XRAY_DAEMON_ADDRESS` value: `127.0.0.1:P` when the ports match, else `udp:… tcp:…`. */
  readonly address: string;
  readonly segments: readonly CollectedSegment[];
  readonly subsegments: readonly CollectedSubsegment[];
  readonly malformed: readonly MalformedDatagram[];
  readonly samplingRequests: readonly SamplingRequest[];
  /** Every datagram received, well formed or not. */
  readonly datagrams: number;
  /** Resolves once `predicate` holds for the collected data; rejects after `timeoutMs`. */
  waitFor(predicate: (daemon: XRayDaemon) => boolean, timeoutMs?: number): Promise<void>;
  /** Replaces the rules `/GetSamplingRules` answers. */
  setSamplingRules(rules: readonly SamplingRule[]): void;
  /**
   * Answers `path` with the X-Ray API's refusal, as the real daemon passes it on (its status and
   * body: access denied, throttled), until called with `undefined`.
   */
  refuse(path: SamplingRequest['path'], answer: { status: number; body: string } | undefined): void;
  /** Forgets everything collected. */
  clear(): void;
  /** Closes both sockets. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The `AWS_XRAY_DAEMON_ADDRESS` value for a daemon on `host`: aws-xray-sdk-core takes `host:port`
 * for one port shared by UDP and TCP, or `udp:host:port tcp:host:port` (in either order) otherwise.
 */
export function xrayDaemonAddress(udpPort: number, tcpPort: number = udpPort, host: string = HOST): string {
  return udpPort === tcpPort ? `${host}:${udpPort}` : `udp:${host}:${udpPort} tcp:${host}:${tcpPort}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why `doc` is not a valid segment or subsegment, or undefined when it is. */
function invalidEntity(
  doc: Record<string, unknown>,
  independent: boolean,
  root: boolean,
): string | undefined {
  if (typeof doc.name !== 'string' || doc.name === '') return 'missing name';
  if (typeof doc.id !== 'string' || !ENTITY_ID.test(doc.id)) return `bad id ${String(doc.id)}`;
  if (typeof doc.start_time !== 'number') return `${doc.id}: missing start_time`;
  if (typeof doc.end_time !== 'number' && doc.in_progress !== true)
    return `${doc.id}: neither end_time nor in_progress`;
  if (root || independent) {
    if (typeof doc.trace_id !== 'string' || !TRACE_ID.test(doc.trace_id)) {
      return `${doc.id}: bad trace_id ${String(doc.trace_id)}`;
    }
  }
  if (independent && (typeof doc.parent_id !== 'string' || !ENTITY_ID.test(doc.parent_id))) {
    return `${doc.id}: independent subsegment without parent_id`;
  }
  if (doc.subsegments !== undefined && !Array.isArray(doc.subsegments))
    return `${doc.id}: subsegments is not a list`;
  return undefined;
}

async function bindUdp(port: number): Promise<Socket> {
  // A receive buffer of 4 MB (as far as net.core.rmem_max allows): the real daemon reads in a
  // process of its own, this one in the event loop of the app whose bursts it receives.
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  socket.bind(port, HOST);
  await once(socket, 'listening');
  return socket;
}

async function listenTcp(server: Server, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') resolve(false);
      else reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, HOST);
  });
}

/** Starts the daemon stand-in on ephemeral ports of 127.0.0.1. */
export async function startXRayDaemon(options: XRayDaemonOptions = {}): Promise<XRayDaemon> {
  const segments: CollectedSegment[] = [];
  const subsegments: CollectedSubsegment[] = [];
  const malformed: MalformedDatagram[] = [];
  const samplingRequests: SamplingRequest[] = [];
  const refusals = new Map<string, { status: number; body: string }>();
  const events = new EventEmitter();
  let rules: readonly SamplingRule[] = options.samplingRules ?? [DEFAULT_SAMPLING_RULE];
  let datagrams = 0;
  const rulesModifiedAt = Math.floor(Date.now() / 1000);

  function collectNested(parent: Record<string, unknown>, traceId: string): string | undefined {
    const children = Array.isArray(parent.subsegments) ? parent.subsegments : [];
    for (const child of children) {
      if (!isRecord(child)) return 'a subsegment is not an object';
      const reason = invalidEntity(child, false, false);
      if (reason !== undefined) return reason;
      subsegments.push({
        traceId,
        id: String(child.id),
        name: String(child.name),
        parentId: String(parent.id),
        independent: false,
        inProgress: child.in_progress === true,
        document: child,
      });
      const nestedReason = collectNested(child, traceId);
      if (nestedReason !== undefined) return nestedReason;
    }
    return undefined;
  }

  function receive(message: Buffer): void {
    datagrams += 1;
    const raw = message.toString('utf8');
    const reason = collect(raw);
    if (reason !== undefined) malformed.push({ raw, reason });
    events.emit('change');
  }

  /** Keeps what a datagram carries, or returns why it is malformed (keeping nothing of it). */
  function collect(raw: string): string | undefined {
    const newline = raw.indexOf('\n');
    if (newline === -1) return 'no header line';
    let header: unknown;
    let doc: unknown;
    try {
      header = JSON.parse(raw.slice(0, newline));
    } catch {
      return 'header is not JSON';
    }
    if (!isRecord(header) || header.format !== 'json' || header.version !== 1) {
      return 'header is not {"format":"json","version":1}';
    }
    try {
      doc = JSON.parse(raw.slice(newline + 1));
    } catch {
      return 'document is not JSON';
    }
    if (!isRecord(doc)) return 'document is not an object';
    const independent = doc.type === 'subsegment';
    if (doc.type !== undefined && !independent) return `unknown type ${String(doc.type)}`;
    const reason = invalidEntity(doc, independent, !independent);
    if (reason !== undefined) return reason;
    const traceId = String(doc.trace_id);
    // Validate the whole tree before keeping any of it, as the daemon drops a bad document whole.
    const before = subsegments.length;
    const nestedReason = collectNested(doc, traceId);
    if (nestedReason !== undefined) {
      subsegments.splice(before);
      return nestedReason;
    }
    const inProgress = doc.in_progress === true;
    if (independent) {
      subsegments.splice(before, 0, {
        traceId,
        id: String(doc.id),
        name: String(doc.name),
        parentId: String(doc.parent_id),
        independent: true,
        inProgress,
        document: doc,
      });
    } else {
      segments.push({
        traceId,
        id: String(doc.id),
        name: String(doc.name),
        parentId: typeof doc.parent_id === 'string' ? doc.parent_id : undefined,
        inProgress,
        document: doc,
      });
    }
    return undefined;
  }

  function sampling(req: IncomingMessage, res: ServerResponse, text: string): void {
    const path = req.url;
    let body: unknown;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (
      req.method !== 'POST' ||
      (path !== '/GetSamplingRules' && path !== '/SamplingTargets') ||
      body === undefined
    ) {
      res.writeHead(req.method === 'POST' ? 400 : 405, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `unsupported ${req.method} ${path}` }));
      return;
    }
    samplingRequests.push({ path, body });
    events.emit('change');
    const refusal = refusals.get(path);
    if (refusal !== undefined) {
      res.writeHead(refusal.status, { 'content-type': 'application/json' });
      res.end(refusal.body);
      return;
    }
    const answer =
      path === '/GetSamplingRules'
        ? samplingRulesAnswer(rules, rulesModifiedAt)
        : samplingTargetsAnswer(rules, body, rulesModifiedAt);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  }

  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => sampling(req, res, text));
  });

  let udp: Socket | undefined;
  const sharePort = options.sharePort ?? true;
  for (let attempt = 0; attempt < 5 && udp === undefined; attempt += 1) {
    const candidate = await bindUdp(0);
    if (!sharePort || (await listenTcp(server, candidate.address().port))) {
      udp = candidate;
    } else {
      await new Promise<void>((resolve) => candidate.close(resolve));
    }
  }
  if (udp === undefined) udp = await bindUdp(0);
  if (!server.listening) await listenTcp(server, 0);
  udp.on('message', receive);

  const udpPort = udp.address().port;
  const tcpPort = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const boundUdp = udp;

  const daemon: XRayDaemon = {
    udpPort,
    tcpPort,
    address: xrayDaemonAddress(udpPort, tcpPort),
    segments,
    subsegments,
    malformed,
    samplingRequests,
    get datagrams() {
      return datagrams;
    },
    waitFor(predicate, timeoutMs = 5_000) {
      return waitForCondition({
        emitter: events,
        event: 'change',
        until: () => predicate(daemon),
        value: () => undefined,
        timeoutMs,
        failure: () =>
          `X-Ray daemon: condition not met within ${timeoutMs} ms; ${segments.length} segments, ` +
          `${subsegments.length} subsegments, malformed: ${JSON.stringify(malformed.map((m) => m.reason))}`,
      });
    },
    setSamplingRules(next) {
      rules = next;
    },
    refuse(path, answer) {
      if (answer === undefined) refusals.delete(path);
      else refusals.set(path, answer);
    },
    clear() {
      segments.length = 0;
      subsegments.length = 0;
      malformed.length = 0;
      samplingRequests.length = 0;
      datagrams = 0;
    },
    close() {
      closing ??= Promise.all([
        new Promise<void>((resolve) => boundUdp.close(() => resolve())),
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
      ]).then(() => undefined);
      return closing;
    },
  };
  return daemon;
}
