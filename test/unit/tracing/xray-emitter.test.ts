import { createSocket, Socket, type SocketOptions } from 'node:dgram';
import { isIP } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/index.js';
import { DaemonStatus } from '../../../src/tracing/xray/daemon-status.js';
import { DaemonEmitter, malformedIds } from '../../../src/tracing/xray/emitter.js';
import { captureLogs, type LogCapture } from '../../support/log-capture.js';
import { startXRayDaemon, type XRayDaemon } from '../../support/xray-daemon.js';

const traceId = '1-5759e988-bd862e3fe1be46a994272793';
const id = '53995c3f42cd8ad8';

let daemon: XRayDaemon;
let logs: LogCapture;

function emitter(port = daemon.udpPort, host = '127.0.0.1'): DaemonEmitter {
  const logger = createLogger({ service: 'test', destination: logs });
  return new DaemonEmitter({ host, port }, new DaemonStatus(logger, `${host}:${port}`, false), logger);
}

function segment(ids: { traceId: string; id: string; parentId?: string }): string {
  return JSON.stringify({
    trace_id: ids.traceId,
    id: ids.id,
    ...(ids.parentId === undefined ? {} : { parent_id: ids.parentId }),
    name: 'notes-api',
    start_time: 1,
    end_time: 2,
  });
}

/**
 * An emitter for a daemon given by host name, `resolve` answering each lookup of it (the first is 0),
 * with its addresses or an error, as `dns.lookup` does (every address when asked for all, else the
 * first): no DNS query leaves the machine.
 */
function emitterByName(resolve: (lookup: number, hostname: string) => string | string[] | Error) {
  logs = captureLogs();
  const logger = createLogger({ service: 'test', destination: logs });
  const host = 'xray-daemon.test';
  const status = new DaemonStatus(logger, `${host}:${daemon.udpPort}`, false);
  const lookups: string[] = [];
  const lookup: SocketOptions['lookup'] = (hostname, options, callback) => {
    if (isIP(hostname) !== 0) {
      process.nextTick(() => callback(null, hostname, 4)); // the socket's bind to 0.0.0.0
      return;
    }
    const answer = resolve(lookups.push(hostname) - 1, hostname);
    const all = (options as { all?: boolean }).all === true;
    process.nextTick(() => {
      if (answer instanceof Error) callback(answer, '', 4);
      else if (!all) callback(null, typeof answer === 'string' ? answer : answer[0]!, 4);
      else {
        const list = (typeof answer === 'string' ? [answer] : answer).map((address) => ({
          address,
          family: 4,
        }));
        (callback as unknown as (error: null, addresses: typeof list) => void)(null, list);
      }
    });
  };
  const sender = new DaemonEmitter({ host, port: daemon.udpPort }, status, logger, lookup);
  const send = (i: number) => {
    const ids = { traceId, id: `${i}`.repeat(16) };
    sender.send({ ...ids, parentId: undefined }, false, () => segment(ids));
  };
  return { host, status, lookups, sender, send };
}

beforeAll(async () => {
  daemon = await startXRayDaemon();
});

afterEach(() => {
  daemon.clear();
});

afterAll(async () => {
  await daemon.close();
});

describe('malformedIds', () => {
  it.each([
    [{ traceId, id, parentId: undefined }, false, undefined],
    [{ traceId, id, parentId: 'a'.repeat(16) }, true, undefined],
    [{ traceId, id, parentId: undefined }, true, 'parent id'],
    [{ traceId: '1-5759e988-bd862e3fe1be46a99427279', id, parentId: undefined }, false, 'trace id'],
    [{ traceId: traceId.toUpperCase(), id, parentId: undefined }, false, 'trace id'],
    [{ traceId: `${traceId}\n`, id, parentId: undefined }, false, 'trace id'],
    [{ traceId, id: 'xyz', parentId: undefined }, false, 'id'],
    [{ traceId: '1-00000000-000000000000000000000000', id, parentId: undefined }, false, 'trace id'],
    [{ traceId, id: '0'.repeat(16), parentId: undefined }, false, 'id'],
    [{ traceId, id, parentId: '0'.repeat(16) }, true, 'parent id'],
    [{ traceId, id, parentId: '"},{"x":1' }, false, 'parent id'],
    [{ traceId: 42, id, parentId: undefined }, false, 'trace id'],
  ])('%j (parent required: %s) → %j', (ids, parentRequired, expected) => {
    expect(malformedIds(ids, parentRequired)).toBe(expected);
  });
});

describe('DaemonEmitter', () => {
  beforeAll(() => {
    logs = captureLogs();
  });

  it('sends documents in the daemon’s wire format, queued while it connects', async () => {
    const sender = emitter();
    for (let i = 1; i <= 3; i++) {
      const ids = { traceId, id: `${i}`.repeat(16) };
      sender.send({ ...ids, parentId: undefined }, false, () => segment(ids));
    }
    await sender.flush();
    await daemon.waitFor((d) => d.segments.length === 3);
    expect(daemon.segments.map((s) => s.id)).toEqual(['1'.repeat(16), '2'.repeat(16), '3'.repeat(16)]);
    expect(daemon.malformed).toEqual([]);
    await sender.close();
    await sender.close();
  });

  it('connects as it is created, before anything is sent', async () => {
    const connect = vi.spyOn(Socket.prototype, 'connect');
    try {
      const sender = emitter();
      expect(connect).toHaveBeenCalledWith(daemon.udpPort, '127.0.0.1', expect.any(Function));
      await sender.close();
    } finally {
      connect.mockRestore();
    }
  });

  it('keeps 1 MiB while it connects: a segment sent in 400 parts arrives whole', async () => {
    const sender = emitter();
    for (let i = 0; i < 400; i++) {
      const ids = { traceId, id: (i + 1).toString(16).padStart(16, 'a') };
      sender.send({ ...ids, parentId: undefined }, false, () => segment(ids));
    }
    await sender.flush();
    await daemon.waitFor((d) => d.segments.length === 400);
    await sender.close();
  });

  it('drops what is over 1 MiB while it connects, logged once per wait', async () => {
    logs = captureLogs();
    const sender = emitter();
    const large = (ids: { traceId: string; id: string }) =>
      JSON.stringify({ ...JSON.parse(segment(ids)), metadata: { default: { pad: 'x'.repeat(60_000) } } });
    for (let i = 0; i < 20; i++) {
      const ids = { traceId, id: (i + 1).toString(16).padStart(16, 'a') };
      sender.send({ ...ids, parentId: undefined }, false, () => large(ids));
    }
    await sender.flush();
    await daemon.waitFor((d) => d.segments.length === 17);
    await delay(50);
    expect(daemon.segments).toHaveLength(17);
    expect(logs.lines.map((l) => l.msg)).toEqual([
      expect.stringMatching(/^tracing: segments are dropped while the socket to the X-Ray daemon connects/),
    ]);
    await sender.close();
  });

  it('never sends a document with a malformed id, nor serialises it; logs that once', async () => {
    logs = captureLogs();
    const sender = emitter();
    let serialised = 0;
    for (const bad of ['1-5759e988-bd862e3fe1be46a99427279', 'Root=x']) {
      sender.send({ traceId: bad, id, parentId: undefined }, false, () => {
        serialised += 1;
        return segment({ traceId: bad, id });
      });
    }
    sender.send({ traceId, id, parentId: undefined }, false, () => segment({ traceId, id }));
    await sender.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    await delay(50);
    expect(daemon.datagrams).toBe(1);
    expect(serialised).toBe(0);
    expect(logs.lines.map((l) => l.msg)).toEqual([
      'tracing: a segment with a malformed trace id was dropped',
    ]);
    await sender.close();
  });

  it('drops a document larger than a datagram: warned at once, then at most once a minute, with the count since', async () => {
    logs = captureLogs();
    const sender = emitter();
    const huge = JSON.stringify({
      trace_id: traceId,
      id,
      name: 'x',
      start_time: 1,
      end_time: 2,
      pad: 'x'.repeat(70_000),
    });
    try {
      for (let i = 0; i < 3; i++) sender.send({ traceId, id, parentId: undefined }, false, () => huge);
      await sender.flush();
      expect(daemon.datagrams).toBe(0);
      expect(logs.lines).toHaveLength(1);
      expect(logs.lines[0]).toMatchObject({
        level: 'warn',
        msg: expect.stringMatching(
          /^tracing: 1 segment larger than a UDP datagram \(65507 bytes\): .*1 dropped/,
        ),
        tracing: { oversize: { dropped: 1, shrunk: 0, largestBytes: huge.length + 30, traceId } },
      });

      // A minute on (not once per process): the next one says how many were dropped since.
      vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 60_001);
      sender.send({ traceId, id, parentId: undefined }, false, () => huge);
      expect(logs.lines).toHaveLength(2);
      expect(logs.lines[1]).toMatchObject({
        msg: expect.stringMatching(/^tracing: 3 segments larger than a UDP datagram/),
        tracing: { oversize: { dropped: 3, shrunk: 0 } },
      });
    } finally {
      vi.restoreAllMocks();
      await sender.close();
    }
  });

  it('a daemon given by name that refuses: the name is looked up again, and a daemon that moved is found', async () => {
    // First where nothing listens (127.0.0.2 refuses the port), then where the daemon runs.
    const { host, lookups, sender, send } = emitterByName((lookup) =>
      lookup === 0 ? '127.0.0.2' : '127.0.0.1',
    );
    try {
      send(1);
      await sender.flush();
      // The refusal comes back as an ICMP error on the socket.
      await vi.waitFor(() => expect(logs.lines.some((line) => line.level === 'warn')).toBe(true));
      // The daemon moved (its pod was rescheduled): once the delay is over, a probe finds it there.
      vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 60_001);
      send(2);
      await sender.flush();
      await daemon.waitFor((d) => d.segments.length === 1);
      expect(lookups).toEqual([host, host]);
    } finally {
      vi.restoreAllMocks();
      await sender.close();
    }
  });

  it('a daemon given by name that moved where its old address drops datagrams silently: found by the next lookup, within 30 s', async () => {
    // The old address takes datagrams and answers nothing, as a host that is gone does in a VPC.
    const old = createSocket('udp4');
    await new Promise<void>((resolve) => old.bind(daemon.udpPort, '127.0.0.3', resolve));
    let silentlyTaken = 0;
    old.on('message', () => {
      silentlyTaken += 1;
    });
    const { host, lookups, sender, send } = emitterByName((lookup) =>
      lookup === 0 ? '127.0.0.3' : '127.0.0.1',
    );
    try {
      send(1);
      await sender.flush();
      await vi.waitFor(() => expect(silentlyTaken).toBe(1));
      send(2); // within 30 s of the connect: no lookup
      await sender.flush();
      expect(lookups).toEqual([host]);

      vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 30_001);
      send(3); // the lookup runs beside it; this one still goes to the old address
      await vi.waitFor(() => expect(lookups).toEqual([host, host]));
      await vi.waitFor(() =>
        expect(logs.lines).toContainEqual(
          expect.objectContaining({
            level: 'info',
            tracing: { daemon: `${host}:${daemon.udpPort}`, from: '127.0.0.3', to: '127.0.0.1' },
          }),
        ),
      );
      send(4);
      await sender.flush();
      await daemon.waitFor((d) => d.segments.length === 1);
      expect(daemon.segments.map((segment) => segment.id)).toEqual(['4'.repeat(16)]);
      expect(logs.lines.filter((line) => line.level === 'warn')).toEqual([]); // no outage said
    } finally {
      vi.restoreAllMocks();
      await sender.close();
      old.close();
    }
  });

  it('a daemon name with several addresses, rotated by the resolver: kept while its address is among them', async () => {
    const { host, lookups, sender, send } = emitterByName((lookup) =>
      lookup === 0 ? ['127.0.0.1', '127.0.0.9'] : ['127.0.0.9', '127.0.0.1'],
    );
    try {
      send(1);
      await sender.flush();
      vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 30_001);
      send(2);
      await vi.waitFor(() => expect(lookups).toEqual([host, host]));
      await new Promise((resolve) => setTimeout(resolve, 20)); // the answer handled
      send(3);
      await sender.flush();
      await daemon.waitFor((d) => d.segments.length === 3);
      expect(logs.lines).toEqual([]); // no move said: the socket was kept
    } finally {
      vi.restoreAllMocks();
      await sender.close();
    }
  });

  it('a host name that does not resolve: what waited is dropped and counted, the connect tried again later', async () => {
    // Resolves nothing, as the resolver would.
    const { host, status, lookups, sender, send } = emitterByName((_lookup, hostname) =>
      Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }),
    );
    const dropped = vi.spyOn(status, 'droppedWhileDown');
    try {
      for (let i = 1; i <= 3; i++) send(i);
      await sender.flush();

      expect(dropped).toHaveBeenCalledWith(3);
      expect(logs.lines).toEqual([
        expect.objectContaining({ level: 'warn', err: expect.objectContaining({ code: 'ENOTFOUND' }) }),
      ]);
      send(4);
      expect(lookups).toEqual([host]); // not before the reconnect delay
      // From now, not from before the connect failed: the delay runs from the failure.
      vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 5_001);
      send(5);
      await sender.flush();
      expect(lookups).toEqual([host, host]);
      const counted = dropped.mock.calls.reduce((sum, [count]) => sum + (count ?? 1), 0);
      expect(counted).toBe(5); // every segment, the probe that waited for the second connect too
      expect(daemon.datagrams).toBe(0);
    } finally {
      vi.restoreAllMocks();
      await sender.close();
    }
  });

  it('flush resolves at once with nothing to send, and is bounded otherwise', async () => {
    const sender = emitter();
    const started = Date.now();
    await sender.flush();
    expect(Date.now() - started).toBeLessThan(50);
    await sender.close();
    sender.send({ traceId, id, parentId: undefined }, false, () => segment({ traceId, id }));
    await sender.flush(100);
    expect(daemon.datagrams).toBe(0); // closed: nothing is sent any more
  });
});
