import { closeSync, openSync, readFileSync, type writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runWithRequestContext } from '../../../src/http/context.js';
import { createLogger } from '../../../src/logging/logger.js';
import { StdoutDestination } from '../../../src/logging/stdout-destination.js';
import { testRequestContext } from '../../support/request-context.js';
import { pipeThatFills } from '../../support/stalled-pipe.js';
import { temporaryDirectory } from '../../support/temp-dir.js';

const dir = temporaryDirectory('stdout-destination-');
const fds: number[] = [];
afterEach(() => {
  for (const fd of fds.splice(0)) closeSync(fd);
});

function destinationOnFile(name: string): { destination: StdoutDestination; read: () => string } {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  fds.push(fd);
  return { destination: new StdoutDestination(fd), read: () => readFileSync(path, 'utf8') };
}

describe('StdoutDestination', () => {
  it('writes the lines of one turn together, at its end, in order', async () => {
    const { destination, read } = destinationOnFile('batch.log');
    for (let i = 0; i < 1000; i++) destination.write(`line ${i} é\n`);
    expect(read()).toBe('');
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
    const lines = read().trimEnd().split('\n');
    expect(lines).toHaveLength(1000);
    expect(lines[999]).toBe('line 999 é');
  });

  it('calls flush callbacks only once everything is written', async () => {
    const { destination, read } = destinationOnFile('flush.log');
    destination.write('a\n');
    const seen: string[] = [];
    destination.flush(() => seen.push(read()));
    destination.write('b\n');
    destination.flush(() => seen.push(read()));
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
    expect(seen).toEqual(['a\nb\n', 'a\nb\n']);
  });

  it('flushes synchronously, for the exit', () => {
    const { destination, read } = destinationOnFile('sync.log');
    destination.write('last words\n');
    destination.flushSync();
    expect(read()).toBe('last words\n');
  });

  it('drops lines past its backlog while stdout takes none, and reports how many once it is written', async () => {
    const { write, written, drain } = pipeThatFills();
    const destination = new StdoutDestination(1, { maxPendingBytes: 100, write });
    const reports: number[] = [];
    destination.onDropped = (count) => {
      reports.push(count);
      destination.write(`dropped ${count}\n`);
    };
    for (let i = 0; i < 30; i++) destination.write(`line ${String(i).padStart(4, '0')}\n`); // 10 bytes each
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(destination.dropped).toBe(19); // 11 taken (the last one past 100 bytes), 19 dropped
    expect(reports).toEqual([]); // not while the backlog waits
    drain();
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
    expect(reports).toEqual([19]);
    expect(written.join('')).toMatch(/^line 0000\n[\s\S]*line 0010\ndropped 19\n$/);
  });

  it('keeps reserved lines (EMF) past the backlog that drops log lines, up to their own reserve, uncounted', async () => {
    const { write, written, drain } = pipeThatFills();
    const destination = new StdoutDestination(1, { maxPendingBytes: 100, reservedBytes: 50, write });
    for (let i = 0; i < 12; i++) destination.write(`line ${String(i).padStart(4, '0')}\n`); // past 100 bytes
    expect(destination.dropped).toBe(1);
    const kept = [0, 1, 2, 3, 4, 5].map((i) => destination.write(`emf  ${i}...\n`, true)); // 10 bytes each
    expect(kept).toEqual([true, true, true, true, true, false]); // 110 + 50: the last one is past the reserve
    expect(destination.dropped).toBe(1); // a reserved line's drop is its writer's to say
    drain();
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
    expect(written.join('')).toContain('emf  4...\n');
  });

  it('counts what the pipe has not taken yet in the backlog, not only what was queued since', async () => {
    const { write } = pipeThatFills();
    const destination = new StdoutDestination(1, { maxPendingBytes: 100, write });
    for (let i = 0; i < 8; i++) destination.write('ten bytes\n'); // 80: queued, then tried and stalled
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 8; i++) destination.write('ten bytes\n'); // 80 stalled + 30 queued: past 100
    expect(destination.dropped).toBe(5);
  });

  it('counts a waiting backlog in the bytes it will be written as, not in characters', async () => {
    const { write } = pipeThatFills();
    const destination = new StdoutDestination(1, { maxPendingBytes: 100, write });
    destination.write('first\n');
    await new Promise((resolve) => setTimeout(resolve, 5)); // tried: the pipe is full
    // 10 characters, 28 bytes each: 6 + 4 × 28 = 118 is past 100, so the fifth and later are dropped.
    for (let i = 0; i < 8; i++) destination.write('€€€€€€€€€\n');
    expect(destination.dropped).toBe(4);
  });

  it('writes a large backlog a chunk at a time, whole, without splitting a character', async () => {
    const chunks: number[] = [];
    const taken: Buffer[] = [];
    const write = ((_fd: number, data: Buffer) => {
      chunks.push(data.length);
      taken.push(Buffer.from(data));
      return data.length;
    }) as unknown as typeof writeSync;
    const destination = new StdoutDestination(1, { write });
    // One character first: every 😀 (two UTF-16 units) then straddles an even offset.
    const text = `a${'😀'.repeat(1_500_000)}\n`;
    destination.write(text);
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...chunks)).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(Buffer.concat(taken).toString()).toBe(text);
  });

  it('keeps the order when lines keep coming while a large backlog is written by chunks', async () => {
    const taken: Buffer[] = [];
    let destination!: StdoutDestination;
    let calls = 0;
    const write = ((_fd: number, data: Buffer) => {
      taken.push(Buffer.from(data));
      // A line logged between two chunks: it waits for the rest of the backlog.
      if (++calls <= 3) destination.write(`after chunk ${calls}\n`);
      return data.length;
    }) as unknown as typeof writeSync;
    destination = new StdoutDestination(1, { write });
    const backlog = `${'x'.repeat(3 * 1024 * 1024)}\n`;
    destination.write(backlog);
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
    expect(Buffer.concat(taken).toString()).toBe(`${backlog}after chunk 1\nafter chunk 2\nafter chunk 3\n`);
  });

  it('bounds the whole exit on a pipe that takes nothing, not each line written during it', () => {
    const stuck = (() => {
      throw Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' });
    }) as unknown as typeof writeSync;
    const destination = new StdoutDestination(1, { exitFlushBoundMs: 100, write: stuck, warn: () => {} });
    destination.write('left\n');
    const started = performance.now();
    destination.exitSync();
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    const after = performance.now();
    for (let i = 0; i < 5; i++) destination.write(`from an exit listener ${i}\n`);
    expect(performance.now() - after).toBeLessThan(50); // the bound is spent: no wait per line
  });

  it('reports dropped lines outside the request whose line started the write, through the kit logger', async () => {
    const { write, written, drain } = pipeThatFills();
    const destination = new StdoutDestination(1, { maxPendingBytes: 1_000, write });
    const logger = createLogger({ service: 'svc', destination, pretty: false });
    runWithRequestContext(testRequestContext('the-request-that-wrote'), () => {
      for (let i = 0; i < 50; i++) logger.info({ i }, 'line');
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    drain();
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
    const report = written
      .join('')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.linesDropped !== undefined);
    expect(report).toMatchObject({ level: 'error', linesDropped: destination.dropped });
    expect(report).not.toHaveProperty('requestId');
  });

  it('writes at once after the exit began: a line from a later exit listener still arrives', () => {
    const { destination, read } = destinationOnFile('exit.log');
    destination.write('before\n');
    destination.exitSync();
    destination.write('from a later exit listener\n');
    expect(read()).toBe('before\nfrom a later exit listener\n');
  });

  it('writes to a pipe in whole lines of at most PIPE_BUF bytes, a longer line alone', async () => {
    const writes: string[] = [];
    const write = ((_fd: number, data: Buffer) => {
      writes.push(data.toString());
      return data.length;
    }) as unknown as typeof writeSync;
    const destination = new StdoutDestination(1, { write, writeBytes: 4096 });
    const lines = Array.from({ length: 100 }, (_, i) => `{"i":${i},"pad":"${'é'.repeat(100)}"}\n`);
    const long = `${'x'.repeat(5000)}\n`;
    for (const line of [...lines.slice(0, 50), long, ...lines.slice(50)]) destination.write(line);
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
    expect(writes.join('')).toBe([...lines.slice(0, 50), long, ...lines.slice(50)].join(''));
    expect(writes).toContain(long);
    for (const batch of writes.filter((w) => w !== long)) {
      expect(Buffer.byteLength(batch)).toBeLessThanOrEqual(4096);
      expect(batch.endsWith('\n')).toBe(true);
    }
  });

  it("waits while the app's own stdout stream holds the rest of a line, and writes after it", async () => {
    const written: string[] = [];
    const write = ((_fd: number, data: Buffer) => {
      written.push(data.toString());
      return data.length;
    }) as unknown as typeof writeSync;
    let appWriting = true;
    const destination = new StdoutDestination(1, { write, appWriting: () => appWriting });
    destination.write('kit line\n');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(written).toEqual([]);
    appWriting = false;
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
    expect(written).toEqual(['kit line\n']);
  });

  it('counts on stderr, once, the lines the exit leaves unwritten, dropped ones included', () => {
    const { write, written } = pipeThatFills();
    const warnings: string[] = [];
    const destination = new StdoutDestination(1, {
      maxPendingBytes: 100,
      exitFlushBoundMs: 50,
      write,
      warn: (text) => warnings.push(text),
    });
    for (let i = 0; i < 20; i++) destination.write(`line ${String(i).padStart(4, '0')}\n`); // 10 bytes each
    expect(destination.dropped).toBe(9);
    destination.exitSync();
    destination.write('from a later exit listener\n');
    expect(written).toEqual([]);
    expect(warnings).toEqual([
      'apprunner-kit: 20 log lines not written at exit (stdout was not read within 50 ms)\n',
      'apprunner-kit: 1 log line not written at exit (stdout was not read within 50 ms)\n',
    ]);
  });

  it('does not throw when stdout is gone', async () => {
    const fd = openSync(join(dir, 'closed.log'), 'w');
    closeSync(fd);
    const destination = new StdoutDestination(fd);
    destination.write('into the void\n');
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
    expect(() => destination.flushSync()).not.toThrow();
  });

  it('writes each line at once when synchronous (a worker thread), waiting on a full pipe up to its bound', () => {
    const { write, written, drain } = pipeThatFills();
    const destination = new StdoutDestination(1, { write, synchronous: true, stallBoundMs: 100 });
    // Full: the write waits for the bound, then the line waits in memory.
    const started = performance.now();
    destination.write('a\n');
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    expect(written).toEqual([]);
    // The pipe takes lines again: the next write writes both, at once.
    drain();
    destination.write('b\n');
    expect(written.join('')).toBe('a\nb\n');
  });
});
