import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../support/child.js';

const fixture = new URL('../../fixtures/log-flood.mjs', import.meta.url).pathname;

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
});
