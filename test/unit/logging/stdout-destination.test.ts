import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StdoutDestination } from '../../../src/logging/stdout-destination.js';

const dir = mkdtempSync(join(tmpdir(), 'stdout-destination-'));
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

  it('does not throw when stdout is gone', async () => {
    const fd = openSync(join(dir, 'closed.log'), 'w');
    closeSync(fd);
    const destination = new StdoutDestination(fd);
    destination.write('into the void\n');
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
    expect(() => destination.flushSync()).not.toThrow();
  });
});

process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
