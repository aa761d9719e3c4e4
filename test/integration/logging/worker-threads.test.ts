// The kit in worker threads: a worker's kit logger masks what the main thread's redaction registry
// registered, before or after the worker was created, even when it never turns its event loop; and
// bootstrapAppRunner, which a worker's signals never reach, is refused there.
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const kit = new URL('../../../dist/index.js', import.meta.url).href;

/** Runs `script` as an ES module; resolves with its stdout's lines, parsed. */
function runScript(script: string): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { env: { PATH: process.env.PATH ?? '' }, timeout: 15_000 },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`${error.message}; stderr: ${stderr}`));
        else
          resolve(
            stdout
              .trimEnd()
              .split('\n')
              .map((line) => JSON.parse(line) as Record<string, unknown>),
          );
      },
    );
  });
}

describe('redaction in worker threads', () => {
  it('masks in a worker the values the main thread registered, before and after the worker was created', async () => {
    // The worker parks in Atomics.wait (as piscina's idle threads do) while the main thread
    // registers the second value and removes the third: no turn of its event loop in between.
    const lines = await runScript(`
      const { Worker } = await import('node:worker_threads');
      const { redaction } = await import(${JSON.stringify(kit)});
      redaction.addValue('before-0123456789');
      redaction.addValue('removed-0123456789');
      const gate = new Int32Array(new SharedArrayBuffer(4));
      const worker = new Worker(\`
        const { workerData, parentPort } = await import('node:worker_threads');
        const { createLogger } = await import(${JSON.stringify(kit)});
        const logger = createLogger({ service: 'worker', pretty: false });
        logger.info({ dsn: 'postgres://u:before-0123456789@db' }, 'started');
        parentPort.postMessage('parked');
        Atomics.wait(workerData.gate, 0, 0);
        logger.info({ dsn: 'postgres://u:before-0123456789@db', key: 'after-0123456789' }, 'woken');
        logger.info({ old: 'removed-0123456789' }, 'removed');\`, { eval: true, workerData: { gate } });
      await new Promise((resolve) => worker.once('message', resolve));
      redaction.addValue('after-0123456789');
      redaction.removeValue('removed-0123456789');
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await new Promise((resolve) => worker.once('exit', resolve));`);
    const byMessage = Object.fromEntries(lines.map((line) => [line.msg, line]));
    expect(byMessage.started?.dsn).toBe('postgres://u:[REDACTED]@db');
    expect(byMessage.woken?.dsn).toBe('postgres://u:[REDACTED]@db');
    expect(byMessage.woken?.key).toBe('[REDACTED]');
    expect(byMessage.removed?.old).toBe('removed-0123456789');
  }, 20_000);
});

describe('redaction in worker threads under churn', () => {
  it('keeps sharing values after many were registered and removed (the shared log is rewritten, not filled)', async () => {
    // 150,000 values of 100 characters registered and removed once each, a line between: some 31 MB
    // of records, were the log never rewritten.
    const lines = await runScript(`
      const { Worker } = await import('node:worker_threads');
      const { redaction } = await import(${JSON.stringify(kit)});
      redaction.addValue('kept-0123456789');
      const gate = new Int32Array(new SharedArrayBuffer(4));
      const worker = new Worker(\`
        const { workerData, parentPort } = await import('node:worker_threads');
        const { createLogger } = await import(${JSON.stringify(kit)});
        const logger = createLogger({ service: 'worker', pretty: false });
        logger.info({ key: 'kept-0123456789' }, 'started');
        parentPort.postMessage('started');
        // Reads the log while the main thread writes and rewrites it.
        while (Atomics.load(workerData.gate, 0) === 0) logger.debug({ key: 'x' }, 'spin');
        logger.info({ key: 'kept-0123456789', late: 'late-0123456789', churn: 'tok1'.padEnd(100, 'z') }, 'after');\`, { eval: true, workerData: { gate } });
      await new Promise((resolve) => worker.once('message', resolve));
      let warned = false;
      process.on('warning', () => { warned = true; });
      for (let i = 0; i < 150000; i++) {
        const token = ('tok' + i).padEnd(100, 'z');
        redaction.addValue(token);
        redaction.mask('{"msg":"a line"}');
        redaction.removeValue(token);
      }
      redaction.addValue('late-0123456789');
      Atomics.store(gate, 0, 1);
      await new Promise((resolve) => worker.once('exit', resolve));
      console.log(JSON.stringify({ msg: 'main', warned, arrayBuffers: process.memoryUsage().arrayBuffers }));`);
    const byMessage = Object.fromEntries(lines.map((line) => [line.msg, line]));
    expect(byMessage.started?.key).toBe('[REDACTED]');
    expect(byMessage.after).toMatchObject({ key: '[REDACTED]', late: '[REDACTED]' });
    // Removed before the worker's line: no longer masked.
    expect(byMessage.after?.churn).toBe('tok1'.padEnd(100, 'z'));
    expect(byMessage.main?.warned).toBe(false);
    expect(byMessage.main?.arrayBuffers as number).toBeLessThan(4 * 1024 * 1024);
  }, 60_000);
});

describe('bootstrapAppRunner in a worker thread', () => {
  it('is refused with ARK_CONFIG_INVALID naming the fix, unless it owns neither signals nor exit', async () => {
    const lines = await runScript(`
      const { Worker } = await import('node:worker_threads');
      const worker = new Worker(\`
        const { parentPort } = await import('node:worker_threads');
        const { bootstrapAppRunner } = await import(${JSON.stringify(kit)});
        const outcomes = [];
        for (const options of [{}, { app: (req, res) => res.end() }, { shutdown: { signals: [], exit: false } }]) {
          try {
            const runtime = await bootstrapAppRunner(options);
            await runtime.shutdown('test');
            outcomes.push({ started: true });
          } catch (error) {
            outcomes.push({ code: error.code, name: error.name, message: error.message });
          }
        }
        parentPort.postMessage(outcomes);\`, { eval: true });
      const outcomes = await new Promise((resolve) => worker.once('message', resolve));
      console.log(JSON.stringify({ msg: 'outcomes', outcomes }));
      await worker.terminate();`);
    const outcomes = lines.find((line) => line.msg === 'outcomes')?.outcomes as Record<string, unknown>[];
    for (const refused of outcomes.slice(0, 2)) {
      expect(refused).toMatchObject({ code: 'ARK_CONFIG_INVALID', name: 'ConfigurationError' });
      expect(refused.message).toContain('worker thread');
      expect(refused.message).toContain(
        'call bootstrapAppRunner in the main thread; use createLogger() in worker threads',
      );
    }
    expect(outcomes[2]).toEqual({ started: true });
  }, 20_000);
});
