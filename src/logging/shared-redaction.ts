import { getEnvironmentData, isMainThread, setEnvironmentData } from 'node:worker_threads';

/** The environment data key under which the main thread hands its log to worker threads. */
const environmentKey = 'apprunner-kit.redaction.v1';
/**
 * The header: how many bytes of records follow it, written last (an `Int32`), then the log's
 * generation (an `Int32`): odd while the main thread rewrites the log from the start, even otherwise.
 */
const headerBytes = 8;
/**
 * A record: 1 when the value is masked from then on, 0 when no longer; the value's length in bytes;
 * the value, in UTF-16 code units (UTF-8 would turn a lone surrogate into U+FFFD, another value).
 */
const recordHeaderBytes = 5;
const initialBytes = 64 * 1024;
/** Past this, later changes are not shared: some 300,000 values of 100 characters masked at once. */
const maxBytes = 64 * 1024 * 1024;
/** How long a worker waits for a rewrite of the log to end, at most, before it reads it anyway. */
const rewriteWaitMs = 50;

/** ES2024's growable `SharedArrayBuffer` (Node 20 and later), which the project's `lib` leaves out. */
interface GrowableBuffer extends SharedArrayBuffer {
  readonly maxByteLength: number;
  grow(bytes: number): void;
}

const GrowableSharedArrayBuffer = SharedArrayBuffer as unknown as new (
  bytes: number,
  options: { maxByteLength: number },
) => GrowableBuffer;

/**
 * The values the main thread's redaction registry masks, as a log of their additions and removals in
 * memory shared with every worker thread (`node:worker_threads`, piscina). The main thread writes it;
 * a worker thread reads what is new before it masks a line, synchronously: a thread that never
 * turns its event loop (a busy or parked one) sees a value as soon as the main thread registered
 * it, and a thread created before the value loaded sees it too.
 *
 * Once the log holds more than twice what the values masked at the time take (values registered
 * and removed again, request after request), the main thread rewrites it from the start with those
 * values alone and moves to the next generation; a worker that sees a new generation reads the log
 * again from the start, so the log stays bounded by the values masked at once, not by how many ever
 * were.
 *
 * Handed to workers as environment data (`setEnvironmentData`), which a worker receives when it is
 * created: a worker created before the main thread loaded the kit does not get it.
 */
export class SharedRedactionLog {
  readonly #buffer: GrowableBuffer;
  readonly #header: Int32Array;
  /** Where this thread's reading (or, in the main thread, writing) is. */
  #at = headerBytes;
  /** The generation this thread read (a worker's). */
  #generation = 0;
  /** The main thread: the values masked now, and the bytes their records take. */
  readonly #masked = new Set<string>();
  #maskedBytes = 0;
  #full = false;

  constructor(buffer: SharedArrayBuffer) {
    this.#buffer = buffer as GrowableBuffer;
    this.#header = new Int32Array(buffer, 0, 2);
  }

  /** The main thread: `value` is masked from now on (`masked`), or no longer. */
  append(value: string, masked: boolean): void {
    if (this.#full) return;
    const bytes = Buffer.from(value, 'utf16le');
    if (masked && !this.#masked.has(value)) {
      this.#masked.add(value);
      this.#maskedBytes += recordHeaderBytes + bytes.length;
    } else if (!masked && this.#masked.delete(value)) {
      this.#maskedBytes -= recordHeaderBytes + bytes.length;
    }
    const end = this.#at + recordHeaderBytes + bytes.length;
    if (end - headerBytes > Math.max(initialBytes, 2 * this.#maskedBytes)) {
      this.#rewrite();
      return;
    }
    if (!this.#fits(end)) return;
    this.#write(this.#at, bytes, masked);
    // Written last: a reader that sees the new length sees the record's bytes too.
    Atomics.store(this.#header, 0, end - headerBytes);
    this.#at = end;
  }

  /** A worker thread: calls `apply` for each record written since the last call, oldest first; `restart` first when the log was rewritten since. */
  readNew(apply: (value: string, masked: boolean) => void, restart: () => void): void {
    for (;;) {
      let generation = Atomics.load(this.#header, 1);
      if (generation % 2 === 1) {
        // Being rewritten: wait for the main thread to end it (it notifies), bounded.
        Atomics.wait(this.#header, 1, generation, rewriteWaitMs);
        generation = Atomics.load(this.#header, 1);
        if (generation % 2 === 1) return;
      }
      const at = generation === this.#generation ? this.#at : headerBytes;
      const end = Atomics.load(this.#header, 0) + headerBytes;
      // Copied, then checked against a rewrite that began meanwhile, which would have torn it.
      const records = Buffer.from(Buffer.from(this.#buffer, at, Math.max(0, end - at)));
      if (Atomics.load(this.#header, 1) !== generation) continue;
      if (generation !== this.#generation) {
        restart();
        this.#generation = generation;
      }
      for (let offset = 0; offset < records.length; ) {
        const length = records.readUInt32LE(offset + 1);
        const start = offset + recordHeaderBytes;
        apply(records.toString('utf16le', start, start + length), records[offset] === 1);
        offset = start + length;
      }
      this.#at = end;
      return;
    }
  }

  /** The main thread: the log written again from the start with the values masked now alone. */
  #rewrite(): void {
    const header = this.#header;
    const generation = Atomics.load(header, 1);
    Atomics.store(header, 1, generation + 1); // odd: readers wait, or read again
    let at = headerBytes;
    for (const value of this.#masked) {
      const bytes = Buffer.from(value, 'utf16le');
      const end = at + recordHeaderBytes + bytes.length;
      if (!this.#fits(end)) break;
      this.#write(at, bytes, true);
      at = end;
    }
    Atomics.store(header, 0, at - headerBytes);
    Atomics.store(header, 1, generation + 2);
    Atomics.notify(header, 1);
    this.#at = at;
  }

  /** Grows the buffer to hold `end` bytes; false, and a warning once, past {@link maxBytes}. */
  #fits(end: number): boolean {
    if (end <= this.#buffer.byteLength) return true;
    if (end > this.#buffer.maxByteLength) {
      this.#full = true;
      process.emitWarning(
        `apprunner-kit: the redaction values shared with worker threads reached ${maxBytes} bytes; values registered from now on are masked in the main thread only`,
      );
      return false;
    }
    this.#buffer.grow(Math.min(this.#buffer.maxByteLength, Math.max(end, this.#buffer.byteLength * 2)));
    return true;
  }

  #write(at: number, bytes: Buffer, masked: boolean): void {
    const record = Buffer.from(this.#buffer, at, recordHeaderBytes + bytes.length);
    record[0] = masked ? 1 : 0;
    record.writeUInt32LE(bytes.length, 1);
    bytes.copy(record, recordHeaderBytes);
  }
}

/**
 * The thread's side of the log: in the main thread, a new log, handed to the workers it creates
 * (`writer`); in a worker thread, the log its creator handed it, if any.
 */
export function sharedRedactionLog(): { log: SharedRedactionLog; writer: boolean } | undefined {
  if (isMainThread) {
    const buffer = new GrowableSharedArrayBuffer(initialBytes, { maxByteLength: maxBytes });
    setEnvironmentData(environmentKey, buffer);
    return { log: new SharedRedactionLog(buffer), writer: true };
  }
  const buffer = getEnvironmentData(environmentKey);
  return buffer instanceof SharedArrayBuffer
    ? { log: new SharedRedactionLog(buffer), writer: false }
    : undefined;
}
