import { getEnvironmentData, isMainThread, setEnvironmentData } from 'node:worker_threads';

/** The environment data key under which the main thread hands its log to worker threads. */
const environmentKey = 'apprunner-kit.redaction.v1';
/** The header: how many bytes of records follow it, written last (an `Int32`). */
const headerBytes = 4;
/** A record: 1 when the value is masked from then on, 0 when no longer; its UTF-8 length; the value. */
const recordHeaderBytes = 5;
const initialBytes = 64 * 1024;
/** Past this, later changes are not shared: some 600,000 values of 100 characters. */
const maxBytes = 64 * 1024 * 1024;

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
 * Handed to workers as environment data (`setEnvironmentData`), which a worker receives when it is
 * created: a worker created before the main thread loaded the kit does not get it.
 */
export class SharedRedactionLog {
  readonly #buffer: GrowableBuffer;
  readonly #length: Int32Array;
  /** Where this thread's reading (or, in the main thread, writing) is. */
  #at = headerBytes;
  #full = false;

  constructor(buffer: SharedArrayBuffer) {
    this.#buffer = buffer as GrowableBuffer;
    this.#length = new Int32Array(buffer, 0, 1);
  }

  /** The main thread: `value` is masked from now on (`masked`), or no longer. */
  append(value: string, masked: boolean): void {
    if (this.#full) return;
    const bytes = Buffer.from(value, 'utf8');
    const end = this.#at + recordHeaderBytes + bytes.length;
    if (end > this.#buffer.byteLength) {
      if (end > this.#buffer.maxByteLength) {
        this.#full = true;
        process.emitWarning(
          `apprunner-kit: the redaction values shared with worker threads reached ${maxBytes} bytes; values registered from now on are masked in the main thread only`,
        );
        return;
      }
      this.#buffer.grow(Math.min(this.#buffer.maxByteLength, Math.max(end, this.#buffer.byteLength * 2)));
    }
    const record = Buffer.from(this.#buffer, this.#at, end - this.#at);
    record[0] = masked ? 1 : 0;
    record.writeUInt32LE(bytes.length, 1);
    bytes.copy(record, recordHeaderBytes);
    // Written last: a reader that sees the new length sees the record's bytes too.
    Atomics.store(this.#length, 0, end - headerBytes);
    this.#at = end;
  }

  /** A worker thread: calls `apply` for each record written since the last call, oldest first. */
  readNew(apply: (value: string, masked: boolean) => void): void {
    const end = Atomics.load(this.#length, 0) + headerBytes;
    if (end === this.#at) return;
    const records = Buffer.from(this.#buffer, this.#at, end - this.#at);
    for (let at = 0; at < records.length; ) {
      const length = records.readUInt32LE(at + 1);
      const start = at + recordHeaderBytes;
      apply(records.toString('utf8', start, start + length), records[at] === 1);
      at = start + length;
    }
    this.#at = end;
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
