import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Pm2Settings } from '../../../src/config/launcher.js';
import { type Pm2Channel, pm2Messages } from '../../../src/lifecycle/pm2-messages.js';
import { ShutdownCoordinator } from '../../../src/lifecycle/shutdown-coordinator.js';
import { captureLogs } from '../../support/log-capture.js';

const settings = (over: Partial<Pm2Settings>): Pm2Settings => ({
  id: '0',
  killTimeoutMs: 30_000,
  killTimeoutText: '30000',
  shutdownWithMessage: false,
  waitReady: false,
  ...over,
});

/** An IPC channel that records what is sent, and answers each send with `error`. */
function channel(error: Error | null = null) {
  const emitter = new EventEmitter();
  const sent: unknown[] = [];
  const stand: Pm2Channel & { sent: unknown[]; emitter: EventEmitter } = {
    sent,
    emitter,
    send: (message, _handle, _options, callback) => {
      sent.push(message);
      queueMicrotask(() => callback?.(error));
      return true;
    },
    on: (event, listener) => emitter.on(event, listener),
    off: (event, listener) => emitter.off(event, listener),
  };
  return stand;
}

function setup() {
  const logs = captureLogs();
  const logger = pino({ base: null }, logs);
  const coordinator = new ShutdownCoordinator(
    { timeoutMs: 2_000, drainDelayMs: 0, idleGraceMs: 10, hookTimeoutMs: 500 },
    logger,
    false,
  );
  return { logs, logger, coordinator };
}

describe('pm2Messages', () => {
  it("takes pm2's shutdown message as the stop signal, listening once, and lets go once stopped", async () => {
    const { logs, logger, coordinator } = setup();
    const ipc = channel();
    const pm2 = pm2Messages(settings({ shutdownWithMessage: true }), coordinator, logger, true, ipc);
    pm2.serve();
    pm2.serve();
    expect(ipc.emitter.listenerCount('message')).toBe(1);
    ipc.emitter.emit('message', { topic: 'something else' });
    expect(coordinator.state).toBe('starting');
    ipc.emitter.emit('message', 'shutdown');
    expect(coordinator.state).toBe('draining');
    const result = await coordinator.shutdown('joined');
    expect(result.reason).toBe('pm2 shutdown message');
    expect(ipc.emitter.listenerCount('message')).toBe(0);
    expect(logs.find("received pm2's shutdown message")).toHaveLength(1);
  });

  it('does not listen without shutdown_with_message, or with shutdown.signals empty', () => {
    const { logger, coordinator } = setup();
    const ipc = channel();
    pm2Messages(settings({}), coordinator, logger, true, ipc).serve();
    pm2Messages(settings({ shutdownWithMessage: true }), coordinator, logger, false, ipc).serve();
    expect(ipc.emitter.listenerCount('message')).toBe(0);
  });

  it("sends 'ready' with wait_ready only, and says so when it cannot", async () => {
    const { logs, logger, coordinator } = setup();
    const quiet = channel();
    pm2Messages(settings({}), coordinator, logger, true, quiet).ready();
    expect(quiet.sent).toEqual([]);
    const closed = channel(new Error('Channel closed'));
    pm2Messages(settings({ waitReady: true }), coordinator, logger, true, closed).ready();
    expect(closed.sent).toEqual(['ready']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs.lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      expect.stringContaining('the ready message to pm2 could not be sent'),
    ]);
  });

  it('does nothing outside pm2, or without an IPC channel', () => {
    const { logger, coordinator } = setup();
    const ipc = channel();
    const outside = pm2Messages(undefined, coordinator, logger, true, ipc);
    outside.serve();
    outside.ready();
    const { send: _send, ...noSend } = ipc;
    const detached = pm2Messages(
      settings({ shutdownWithMessage: true, waitReady: true }),
      coordinator,
      logger,
      true,
      noSend,
    );
    detached.serve();
    detached.ready();
    expect(ipc.sent).toEqual([]);
    expect(ipc.emitter.listenerCount('message')).toBe(0);
  });
});
