import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../support/child.js';

const fixture = new URL('../../fixtures/log-flood.mjs', import.meta.url).pathname;
const kit = new URL('../../../dist/index.js', import.meta.url).href;
const run = promisify(execFile);

describe('a slow stdout', () => {
  it('loses no line of 20,000 when the reader pauses, and the app still exits before its deadline', async () => {
    const child = spawn(process.execPath, [fixture], {
      env: { PATH: process.env.PATH ?? '', PORT: String(await freePort()), TIMEOUT_MS: '10000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pause(); // nobody reads: the pipe fills and the app's writes must wait, not vanish
    const stdoutClosed = new Promise((resolve) => child.stdout.once('close', resolve));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.once('exit', (code) => resolve({ code, at: performance.now() })),
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the app never finished logging')), 15_000);
      child.stderr.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('flooded')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const signalledAt = performance.now();
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    let text = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      text += chunk;
    });
    child.stdout.resume();
    const { code, at } = await exited;
    await stdoutClosed;

    const lines = text.trimEnd().split('\n');
    const parsed = lines.map((line) => JSON.parse(line) as { msg: string; n?: number });
    const numbers = new Set(parsed.filter((l) => l.msg === 'line').map((l) => l.n));
    expect(numbers.size).toBe(20_000);
    expect(parsed.at(-1)?.msg).toBe('shutdown complete');
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(10_000);
  }, 30_000);

  it('says how many lines it dropped past its 64 MiB backlog, once that backlog is written', async () => {
    // 70,000 lines of 1 KB in one turn: nothing is written before the turn ends, so past 64 MiB the
    // rest is dropped; the count follows the backlog as a line of its own.
    const script = `
      const { createLogger } = await import(${JSON.stringify(kit)});
      const logger = createLogger({ service: 'flood', pretty: false });
      const pad = 'x'.repeat(1000);
      for (let n = 0; n < 70000; n++) logger.info({ n, pad }, 'line');
      // the reader may take longer than the exit's 2 s bound: stay until all is written
      const alive = setInterval(() => {}, 1000);
      await new Promise((resolve) => logger.flush(resolve));
      setTimeout(() => clearInterval(alive), 100);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      maxBuffer: 256 * 1024 * 1024,
      timeout: 20_000,
    });
    const lines = stdout.trimEnd().split('\n');
    const last = JSON.parse(lines.at(-1)!) as { level: string; msg: string; linesDropped: number };
    expect(last).toMatchObject({ level: 'error', msg: expect.stringContaining('log lines dropped') });
    expect(last.linesDropped).toBe(70_000 - (lines.length - 1));
    expect(last.linesDropped).toBeGreaterThan(0);
  }, 30_000);

  it("writes a line logged by the app's own exit listener, after the kit's", async () => {
    const script = `
      const { createLogger } = await import(${JSON.stringify(kit)});
      const logger = createLogger({ service: 'exit', pretty: false });
      process.on('exit', (code) => logger.info({ code }, 'exit listener line'));
      logger.info('before exit');
      process.exit(3);`;
    const failed = await run(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 20_000,
    }).catch((error: { code: number; stdout: string }) => error);
    expect(failed).toMatchObject({ code: 3 });
    const messages = (failed as { stdout: string }).stdout
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toEqual(['before exit', 'exit listener line']);
  }, 30_000);
});
