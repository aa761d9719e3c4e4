// stdout a pipe whose reader stops reading (a log shipper that stalls): requests must go on being
// answered as before, and the lines written meanwhile must still arrive, up to the shutdown's last.
// (test/integration/logging/slow-stdout.test.ts covers 20,000 lines logged at start-up with the
// reader paused through the SIGTERM: none lost, the exit before its deadline.)
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/child.js';

const fixture = new URL('../fixtures/faults/app.mjs', import.meta.url).pathname;

/** GET `path` on a keep-alive agent; resolves with the status and the milliseconds it took. */
function timedGet(agent: Agent, port: number, path: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`GET ${path}: no answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

async function waitUntilListening(port: number): Promise<void> {
  const deadline = performance.now() + 10_000;
  const agent = new Agent();
  try {
    for (;;) {
      try {
        if ((await timedGet(agent, port, '/fast')).status === 200) return;
      } catch {
        // not listening yet
      }
      if (performance.now() > deadline) throw new Error('the app did not listen within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    agent.destroy();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('a stdout whose reader stops reading', () => {
  it('leaves request latency as it was, and every line written meanwhile arrives by the exit', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [fixture], {
      env: { PATH: process.env.PATH ?? '', PORT: String(port), TIMEOUT_MS: '10000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      text += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const stdoutClosed = new Promise((resolve) => child.stdout.once('close', resolve));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await waitUntilListening(port);
      const rounds = 200;

      // Baseline: the reader reads.
      const reading: number[] = [];
      for (let i = 0; i < rounds; i++) reading.push((await timedGet(agent, port, `/fast/reading/${i}`)).ms);

      // The reader stops; 2,000 lines of ~300 bytes fill the pipe (64 KiB) and queue in the app.
      child.stdout.pause();
      expect((await timedGet(agent, port, '/noise?lines=2000&bytes=200')).status).toBe(200);
      const stalled: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const { status, ms } = await timedGet(agent, port, `/fast/stalled/${i}`);
        expect(status).toBe(200);
        stalled.push(ms);
      }
      // Still nothing read: every request above was answered while stdout took nothing.
      expect(child.stdout.isPaused()).toBe(true);

      // A writer that waited for the pipe would never answer while it is full (a request would hit
      // its 5 s bound above); one that retried in place (sonic-boom's sync mode sleeps 100 ms per
      // EAGAIN) would add 100 ms a request. The bound leaves room for a busy machine, and says so.
      const baseline = median(reading);
      const whileStalled = median(stalled);
      expect(
        whileStalled,
        `median ${whileStalled.toFixed(2)} ms with stdout stalled, ${baseline.toFixed(2)} ms reading`,
      ).toBeLessThan(Math.max(50, 5 * baseline));

      // SIGTERM while the reader is still stalled; then it reads again.
      child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.stdout.resume();
      expect(await exited).toBe(0);
      await stdoutClosed;
    } finally {
      agent.destroy();
      child.kill('SIGKILL');
    }

    const lines = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; n?: number; path?: string });
    expect(new Set(lines.filter((l) => l.msg === 'noise').map((l) => l.n)).size).toBe(2_000);
    const stalledLines = lines.filter(
      (l) => l.msg === 'request completed' && l.path?.startsWith('/fast/stalled/'),
    );
    expect(stalledLines).toHaveLength(200);
    expect(lines.at(-1)?.msg).toBe('shutdown complete');
  }, 30_000);
});
