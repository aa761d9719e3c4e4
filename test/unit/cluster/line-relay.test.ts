import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { maxHeldBytes, pauseAboveBytes, relayLines } from '../../../src/cluster/line-relay.js';

/** A destination that records each write, and takes lines while `full` is false. */
function recorder() {
  const writes: string[] = [];
  const flushes: (() => void)[] = [];
  const destination = {
    full: false,
    write(line: string) {
      writes.push(line);
      return true;
    },
    get waitingBytes() {
      return destination.full ? pauseAboveBytes + 1 : 0;
    },
    flush(callback?: () => void) {
      if (callback !== undefined) flushes.push(callback);
    },
  };
  return { destination, writes, flushes };
}

describe('relayLines', () => {
  it('passes whole lines only, holding a line until its end comes, and what is left at the end', async () => {
    const source = new PassThrough();
    const { destination, writes } = recorder();
    const done = relayLines(source, destination);
    source.write('{"a":1}\n{"b":');
    source.write('2}\n{"c"');
    source.write(':3}\n');
    source.end('tail without newline');
    await done;
    // A line cut short (its worker killed mid-write) ends there: the next worker's line starts a line.
    expect(writes).toEqual(['{"a":1}\n', '{"b":2}\n', '{"c":3}\n', 'tail without newline\n']);
  });

  it('never splits a character whose bytes come in two chunks', async () => {
    const source = new PassThrough();
    const { destination, writes } = recorder();
    const done = relayLines(source, destination);
    const bytes = Buffer.from('{"m":"héllo"}\n');
    const cut = bytes.indexOf(0xc3) + 1; // inside é
    source.write(bytes.subarray(0, cut));
    source.end(bytes.subarray(cut));
    await done;
    expect(writes.join('')).toBe('{"m":"héllo"}\n');
  });

  it(`passes on a line longer than ${maxHeldBytes} bytes without waiting for its end`, async () => {
    const source = new PassThrough();
    const { destination, writes } = recorder();
    const done = relayLines(source, destination);
    source.write('x'.repeat(maxHeldBytes + 1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes.map((w) => w.length)).toEqual([maxHeldBytes + 2]);
    expect(writes[0]!.endsWith('x\n')).toBe(true);
    source.end('y\n');
    await done;
    expect(writes.at(-1)).toBe('y\n');
  });

  it(`pauses the worker's output while more than ${pauseAboveBytes} bytes wait, until they are written`, async () => {
    const source = new PassThrough();
    const { destination, writes, flushes } = recorder();
    const done = relayLines(source, destination);
    destination.full = true;
    source.write('one\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.isPaused()).toBe(true);
    expect(flushes).toHaveLength(1);
    destination.full = false;
    flushes[0]!();
    expect(source.isPaused()).toBe(false);
    source.end('two\n');
    await done;
    expect(writes).toEqual(['one\n', 'two\n']);
  });
});
