import { Agent } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type AppRunnerRuntime,
  bootstrapAppRunner,
  ConfigurationError,
  InvalidArgumentError,
  type ShutdownSignal,
  StartAbortedError,
} from '../../../src/index.js';
import { baseUrl, get } from '../../support/http.js';
import { captureLogs } from '../../support/log-capture.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

const ok = (_req: unknown, res: { end(body: string): void }) => res.end('ok');

describe('shutdown without exiting the process', () => {
  it('ends in the stopped state, closes the server and removes its process listeners', async () => {
    const before = {
      sigusr2: process.listenerCount('SIGUSR2'),
      uncaught: process.listenerCount('uncaughtException'),
      rejection: process.listenerCount('unhandledRejection'),
    };
    const { runtime, logs } = await startRuntime({
      app: ok,
      shutdown: { signals: ['SIGUSR2'], handleProcessErrors: true },
    });
    expect(process.listenerCount('SIGUSR2')).toBe(before.sigusr2 + 1);
    expect(process.listenerCount('uncaughtException')).toBe(before.uncaught + 1);

    process.kill(process.pid, 'SIGUSR2');
    await vi.waitFor(() => expect(runtime.state).toBe('stopped'), { timeout: 3_000 });

    expect(runtime.server!.listening).toBe(false);
    expect(logs.find('shutdown complete')[0]).toMatchObject({ reason: 'SIGUSR2', exitCode: 0 });
    expect(process.listenerCount('SIGUSR2')).toBe(before.sigusr2);
    expect(process.listenerCount('uncaughtException')).toBe(before.uncaught);
    expect(process.listenerCount('unhandledRejection')).toBe(before.rejection);
  });

  it('shares one promise between calls and reports the result', async () => {
    const { runtime } = await startRuntime({ app: ok });
    const first = runtime.shutdown('one');
    const second = runtime.shutdown('two');
    expect(second).toBe(first);
    const result = await first;
    expect(result.reason).toBe('one');
    expect(result.exitCode).toBe(0);
    expect(result.timedOut).toBe(false);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('says why a hook that awaits runtime.shutdown() waits until its timeout', async () => {
    const { runtime, logs } = await startRuntime({ app: ok });
    runtime.onShutdown('stops the app again', () => runtime.shutdown('from the hook'), { timeoutMs: 200 });
    await runtime.shutdown('test');
    const told = logs.lines.filter((l) => String(l.msg).startsWith('runtime.shutdown() was called during'));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ level: 'warn', phase: 'shutdown hook "stops the app again"' });
    expect(logs.lines.find((l) => String(l.msg).includes('timed out after'))).toMatchObject({
      hook: 'stops the app again',
    });
  });

  it('says nothing of a runtime.shutdown() during a hook that returns in time (a pool listener calling it)', async () => {
    const { runtime, logs } = await startRuntime({ app: ok });
    runtime.onShutdown('db', () => {
      void runtime.shutdown('database lost');
    });
    await runtime.shutdown('test');
    expect(
      logs.lines.filter((l) => String(l.msg).startsWith('runtime.shutdown() was called during')),
    ).toEqual([]);
  });

  it('refuses the second of two starts made at once, leaving only the signal listener of the first', async () => {
    const before = process.listeners('SIGUSR2').length;
    const options = {
      app: ok,
      port: 0,
      env: {},
      logging: { destination: captureLogs() },
      shutdown: {
        signals: ['SIGUSR2'] as ShutdownSignal[],
        exit: false as const,
        handleProcessErrors: false,
      },
    };
    const first = bootstrapAppRunner(options);
    const second = bootstrapAppRunner(options);
    await expect(second).rejects.toBeInstanceOf(ConfigurationError);
    const runtime = await first;
    try {
      expect(process.listeners('SIGUSR2').length).toBe(before + 1);
    } finally {
      await runtime.shutdown('test');
    }
    expect(process.listeners('SIGUSR2').length).toBe(before);
  });

  it('calls an injected exit with the exit code', async () => {
    const exit = vi.fn();
    const { runtime } = await startRuntime({ app: ok, shutdown: { exit } });
    await runtime.shutdown();
    expect(exit).toHaveBeenCalledExactlyOnceWith(0);
  });

  it('exits 1 through the injected exit when the deadline passes', async () => {
    const exit = vi.fn();
    const { runtime } = await startRuntime({ app: ok, shutdown: { exit, timeoutMs: 200 } });
    runtime.track(new Promise(() => {}), 'never');
    const result = await runtime.shutdown();
    expect(result).toMatchObject({ exitCode: 1, timedOut: true });
    expect(exit).toHaveBeenCalledExactlyOnceWith(1);
  });

  it('removes a hook with the function onShutdown returns', async () => {
    const { runtime } = await startRuntime({ app: ok });
    const ran: string[] = [];
    runtime.onShutdown('kept', () => {
      ran.push('kept');
    });
    const remove = runtime.onShutdown('removed', () => {
      ran.push('removed');
    });
    remove();
    await runtime.shutdown();
    expect(ran).toEqual(['kept']);
  });

  it('passes hooks a signal that aborts when their time is up', async () => {
    const { runtime } = await startRuntime({ app: ok });
    let seen: AbortSignal | undefined;
    runtime.onShutdown(
      'slow',
      (signal) => {
        seen = signal;
        return new Promise(() => {});
      },
      { timeoutMs: 50 },
    );
    await runtime.shutdown();
    expect(seen?.aborted).toBe(true);
    expect((seen!.reason as DOMException).name).toBe('TimeoutError');
  });

  it('logs a tracked task that fails, and still completes', async () => {
    const { runtime, logs } = await startRuntime({ app: ok });
    const failing = runtime.track(Promise.reject(new Error('task broke')), 'flaky');
    await expect(failing).rejects.toThrow('task broke');
    const result = await runtime.shutdown();
    expect(result.exitCode).toBe(0);
    expect(logs.find('tracked task "flaky" failed')[0]).toMatchObject({ level: 'error', task: 'flaky' });
  });

  it('awaits work a hook tracks before the next hook starts; says so of work tracked after the last', async () => {
    const { runtime, logs } = await startRuntime({ app: ok });
    const events: string[] = [];
    runtime.onShutdown('database', () => {
      events.push('database closed');
    });
    runtime.onShutdown('queue', () => {
      const flush = new Promise((resolve) => setTimeout(resolve, 300));
      runtime.track(
        flush.then(() => events.push('queue flushed')),
        'queue flush',
      );
    });

    const result = await runtime.shutdown('test');
    runtime.track(Promise.resolve(), 'too late');

    // The tracked flush was once dropped: the shutdown ended at once, the database closed under it.
    expect(events).toEqual(['queue flushed', 'database closed']);
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.durationMs).toBeGreaterThanOrEqual(250);
    const late = logs.lines.find((line) => String(line.msg).startsWith('runtime.track(promise, "too late")'));
    expect(late).toMatchObject({ level: 'warn', task: 'too late', phase: 'stopped' });
    expect(late?.msg).toMatch(
      /the process may exit before it ends; track it before the last onShutdown hook returns/,
    );
  });

  it('refuses what track and onShutdown cannot run, naming the fix, and still shuts down in time', async () => {
    const { runtime, logs } = await startRuntime({ app: ok, shutdown: { timeoutMs: 2_000 } });
    const job = async () => {};
    // A function instead of its promise once left an entry no timer could clear: shutdown spun forever.
    expect(() => runtime.track(job as never)).toThrow(InvalidArgumentError);
    expect(() => runtime.track(job as never)).toThrow(/call the function and pass what it returns/);
    expect(() => runtime.track(undefined as never)).toThrow(/track\(job\(\), 'job'\)/);
    // The terminus habit onShutdown(fn) once ran nothing, with exit code 0.
    expect(() => runtime.onShutdown((async () => {}) as never, undefined as never)).toThrow(
      /takes a name first, as onShutdown\('database'/,
    );
    expect(() => runtime.onShutdown('db', 'end' as never)).toThrow(/fn must be a function; received "end"/);
    expect(() => runtime.onShutdown('db', job, { timeoutMs: 'abc' as never })).toThrow(/timeoutMs must be/);
    expect(() => runtime.onShutdown('db', job, { timeoutMs: -5 })).toThrow(/received -5/);
    let late = false;
    runtime.onShutdown('registers late', () => {
      runtime.onShutdown('late', () => {
        late = true;
      });
    });
    const result = await runtime.shutdown();
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(late).toBe(false);
    expect(
      logs.find('shutdown hook "late" was registered after the shutdown hooks started: it will not run'),
    ).toHaveLength(1);
  });

  it('past the deadline, starts no hook the drain had not reached: the final steps run alone', async () => {
    const { runtime, logs } = await startRuntime({ app: ok, shutdown: { timeoutMs: 1_000 } });
    let later = false;
    runtime.onShutdown('runs last, never reached', () => {
      later = true;
    });
    runtime.onShutdown('hangs', () => new Promise(() => {}));
    const result = await runtime.shutdown('test');
    expect(result).toMatchObject({ timedOut: true, exitCode: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(later).toBe(false); // it once ran with 0 ms left, beside the final steps
    expect(logs.lines.filter((line) => String(line.msg).includes('timed out after 0 ms'))).toEqual([]);
  });

  it('names in one line every hook the deadline left unstarted, whether a hook or tracked work held it', async () => {
    const [heldByHook, heldByTask] = await Promise.all([
      startRuntime({ app: ok, shutdown: { timeoutMs: 1_000 } }),
      startRuntime({ app: ok, shutdown: { timeoutMs: 1_000 } }),
    ]);
    for (const { runtime } of [heldByHook, heldByTask])
      for (const name of ['db', 'cache', 'queue']) runtime.onShutdown(name, () => {});
    heldByHook.runtime.onShutdown('hangs', () => new Promise(() => {}));
    heldByTask.runtime.track(new Promise(() => {}), 'job');

    const results = await Promise.all(
      [heldByHook, heldByTask].map(({ runtime }) => runtime.shutdown('test')),
    );

    for (const result of results) expect(result).toMatchObject({ timedOut: true, exitCode: 1 });
    for (const { logs } of [heldByHook, heldByTask]) {
      // Once only "queue" was named (the hook after the one that hung), or none (held by tracked work).
      const notRun = logs.lines.filter((line) => String(line.msg).includes('not run'));
      expect(notRun).toEqual([
        expect.objectContaining({
          level: 'error',
          hooks: ['queue', 'cache', 'db'],
          msg: expect.stringMatching(
            /^shutdown hooks "queue", "cache", "db" not run: the deadline has passed; .*shutdown\.timeoutMs \(now 1000 ms\)/,
          ),
        }),
      ]);
    }
  });

  it("keeps the final steps' reserve out of the idle grace: a grace near the timeout still drains in time", async () => {
    const { runtime } = await startRuntime({ app: ok, shutdown: { timeoutMs: 1_000, idleGraceMs: 900 } });
    const agent = new Agent({ keepAlive: true });
    await get(`${baseUrl(runtime.server!)}/x`, { agent }); // an idle keep-alive socket, closed at the grace
    const result = await runtime.shutdown('test');
    agent.destroy();
    expect(result).toMatchObject({ timedOut: false, exitCode: 0 });
  });

  it('aborts runtime.signal with an AbortError naming the reason', async () => {
    const { runtime } = await startRuntime({ app: ok });
    const aborted = new Promise<unknown>((resolve) =>
      runtime.signal.addEventListener('abort', () => resolve(runtime.signal.reason)),
    );
    void runtime.shutdown('deploy');
    const reason = (await aborted) as DOMException;
    expect(reason.name).toBe('AbortError');
    expect(reason.message).toContain('deploy');
  });

  it('keeps serving during the drain delay, then refuses', async () => {
    const { runtime } = await startRuntime({ app: ok, shutdown: { drainDelayMs: 300 } });
    const url = baseUrl(runtime.server!);
    const stopping = runtime.shutdown();
    expect((await get(`${url}/x`)).body).toBe('ok');
    await stopping;
    await expect(get(`${url}/x`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('one runtime handles the process at a time', () => {
  it('refuses a second one that would handle signals or exit, until the first has stopped', async () => {
    const owner = (signals: ShutdownSignal[]) =>
      bootstrapAppRunner({
        app: ok,
        port: 0,
        env: {},
        service: 'public-api',
        logging: { destination: captureLogs() },
        shutdown: { signals, exit: false, handleProcessErrors: false },
      });
    const first = await owner(['SIGUSR2']);
    // Two owners once each exited the process at the end of its own shutdown, under the other's requests.
    const refused = await owner(['SIGUSR2']).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigurationError);
    expect((refused as ConfigurationError).message).toMatch(
      /another runtime \(service "public-api"\) handles this process's signals and exit.*runtime\.manageServer\(server\)/,
    );
    // Embedded (no signals, no exit): allowed beside it.
    const { runtime: embedded } = await startRuntime({ app: ok });
    expect(embedded.state).toBe('ready');
    await first.shutdown('test');
    const next = await owner(['SIGUSR2']);
    await next.shutdown('test');
  });
});

describe('a shutdown during the start-up', () => {
  it('stops the start: the server never listens, bootstrap rejects once the shutdown ran, nothing is left running', async () => {
    const logs = captureLogs();
    let seen: AppRunnerRuntime | undefined;
    const hooks: string[] = [];
    const started = bootstrapAppRunner({
      app: ok,
      port: 0,
      env: {},
      logging: { destination: logs },
      // The drain delay once let the server listen and serve while the shutdown waited, then cut it.
      shutdown: { signals: ['SIGUSR2'], exit: false, handleProcessErrors: false, drainDelayMs: 300 },
      beforeListen: async (runtime) => {
        seen = runtime;
        runtime.onShutdown('pool', () => {
          hooks.push('pool');
        });
        process.kill(process.pid, 'SIGUSR2');
        await new Promise((resolve) => setTimeout(resolve, 100));
      },
    });
    await expect(started).rejects.toThrow(StartAbortedError);
    await expect(started).rejects.toThrow(/stopped by a shutdown \(SIGUSR2\) before the server listened/);
    expect(seen!.state).toBe('stopped');
    expect(seen!.server?.listening).toBe(false); // made for beforeListen, never listened
    expect(hooks).toEqual(['pool']);
    expect(logs.lines.filter((line) => String(line.msg).startsWith('listening on port'))).toEqual([]);
    expect(logs.find('shutdown complete')[0]).toMatchObject({ reason: 'SIGUSR2', exitCode: 0 });
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });

  it('rejects with StartAbortedError once the shutdown is done, when a step gave up because of it', async () => {
    const hooks: string[] = [];
    const started = bootstrapAppRunner({
      app: ok,
      port: 0,
      env: {},
      logging: { destination: captureLogs() },
      shutdown: { signals: ['SIGUSR2'], exit: false, handleProcessErrors: false, drainDelayMs: 200 },
      beforeListen: async (runtime) => {
        runtime.onShutdown('pool', async () => {
          await new Promise((resolve) => setTimeout(resolve, 50));
          hooks.push('pool');
        });
        process.kill(process.pid, 'SIGUSR2');
        // The app's own wait, given up on the kit's signal.
        await new Promise((_resolve, reject) =>
          runtime.signal.addEventListener('abort', () => reject(new Error('gave up: shutting down'))),
        );
      },
    });
    const error = await started.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartAbortedError);
    expect((error as Error).cause).toMatchObject({ message: 'gave up: shutting down' });
    expect(hooks).toEqual(['pool']); // not before the shutdown had run
  });

  it('lets go of its timers when the start fails (a retried start adds none)', async () => {
    const started = vi.spyOn(globalThis, 'setInterval');
    const cleared = vi.spyOn(globalThis, 'clearInterval');
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        await expect(
          bootstrapAppRunner({
            app: ok,
            port: 0,
            env: {},
            logging: { destination: captureLogs() },
            loadShedding: { maxEventLoopDelayMs: 500 },
            shutdown: { signals: [], exit: false, handleProcessErrors: false },
            beforeListen: () => {
              throw new Error('database not up yet');
            },
          }),
        ).rejects.toThrow('database not up yet');
      }
      const intervals = started.mock.results.map((result) => result.value);
      // The load shedder's sampling interval, one per attempt, each cleared when its start failed.
      expect(intervals.length).toBeGreaterThanOrEqual(3);
      for (const interval of intervals)
        expect(cleared.mock.calls.map(([handle]) => handle)).toContain(interval);
    } finally {
      started.mockRestore();
      cleared.mockRestore();
    }
  });
});

describe('runtime.inFlight', () => {
  it('counts what stats().inFlight counts: app requests, not a health request waiting on its checks', async () => {
    let release: () => void = () => {};
    const { runtime } = await startRuntime({
      app: (_req: unknown, res: { end(body: string): void }) => {
        release = () => res.end('ok');
      },
    });
    runtime.health.register('slow dependency', () => new Promise((resolve) => setTimeout(resolve, 400)));
    const url = baseUrl(runtime.server!);

    const readiness = get(`${url}/readyz`);
    const app = get(`${url}/work`);
    await vi.waitFor(() => expect(runtime.stats().inFlight).toBe(1));

    expect(runtime.inFlight).toBe(1);
    release();
    await Promise.all([readiness, app]);
    expect(runtime.inFlight).toBe(0);
  });
});
