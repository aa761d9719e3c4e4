import { describe, expect, it } from 'vitest';
import { SharedRedactionLog } from '../../../src/logging/shared-redaction.js';

const growable = () =>
  new (
    SharedArrayBuffer as unknown as new (
      bytes: number,
      options: { maxByteLength: number },
    ) => SharedArrayBuffer
  )(64 * 1024, { maxByteLength: 64 * 1024 * 1024 });

/** What a reader of `buffer` holds after reading what is new: the values masked, and its restarts. */
function reader(buffer: SharedArrayBuffer) {
  const log = new SharedRedactionLog(buffer);
  const masked = new Set<string>();
  let restarts = 0;
  return {
    masked,
    restarts: () => restarts,
    read: () =>
      log.readNew(
        (value, on) => (on ? masked.add(value) : masked.delete(value)),
        () => {
          restarts++;
          masked.clear();
        },
      ),
  };
}

describe('SharedRedactionLog', () => {
  it('hands a value over exactly, a lone surrogate included', () => {
    const buffer = growable();
    const writer = new SharedRedactionLog(buffer);
    const worker = reader(buffer);
    writer.append('token-\uD83D-abcdef', true);
    worker.read();
    expect([...worker.masked]).toEqual(['token-\uD83D-abcdef']);
  });

  it('stays bounded by the values masked at once: rewritten from the start, which a reader follows', () => {
    const buffer = growable();
    const writer = new SharedRedactionLog(buffer);
    const worker = reader(buffer);
    writer.append('kept', true);
    worker.read();
    for (let i = 0; i < 20_000; i++) {
      const token = `tok${i}`.padEnd(100, 'z');
      writer.append(token, true);
      writer.append(token, false);
    }
    writer.append('late', true);
    worker.read();
    expect([...worker.masked].sort()).toEqual(['kept', 'late']);
    expect(worker.restarts()).toBe(1);
    // 20,000 values of 100 characters, registered and removed: 8 MB of records, never rewritten.
    expect(buffer.byteLength).toBe(64 * 1024);
  });
});
