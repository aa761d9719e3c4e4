import type { Readable } from 'node:stream';
import type { StdoutDestination } from '../logging/stdout-destination.js';

const newline = 0x0a;

/**
 * Longest part of a line kept while its end has not come: past it, what came is passed on as a line
 * of its own (far above the kit's longest line, 256 KiB; output without newlines, a progress bar,
 * must not grow the primary's memory).
 */
export const maxHeldBytes = 1024 * 1024;

/**
 * Bytes waiting for the primary's stdout past which a worker's output is paused until they are
 * written: far below the 64 MiB past which the kit's writer drops lines, so that a slow reader makes
 * the workers wait (their own writers keep their lines) instead of losing lines in the primary.
 */
export const pauseAboveBytes = 4 * 1024 * 1024;

/**
 * Passes a worker's stdout on to the primary's, whole lines at a time. The workers of a cluster
 * otherwise share the container's stdout pipe, where a write longer than PIPE_BUF (4 KiB) from one
 * worker can be split around another's: a long line (an error with its causes, a large object) then
 * reaches the log store as two broken events. Here the primary is the pipe's one writer.
 *
 * A line left without its end (the worker killed in the middle of a write, or output past
 * {@link maxHeldBytes} without a newline) is passed on with a newline of its own, so that the next
 * worker's line does not run on from it. Resolves once the worker's stdout ended (after the worker
 * exited, and its last lines were passed on). While more than {@link pauseAboveBytes} wait for the
 * primary's stdout (its reader is slow), the worker's stdout is paused, so the worker's own writer
 * waits instead of lines dropping in the primary.
 */
export function relayLines(
  source: Readable,
  destination: Pick<StdoutDestination, 'write' | 'waitingBytes' | 'flush'>,
): Promise<void> {
  let held: Buffer | undefined;
  const pass = (bytes: Buffer): void => {
    destination.write(bytes.toString('utf8'));
  };
  const passUnended = (bytes: Buffer): void => {
    destination.write(`${bytes.toString('utf8')}\n`);
  };
  source.on('data', (chunk: Buffer) => {
    const bytes = held === undefined ? chunk : Buffer.concat([held, chunk]);
    // A newline byte never occurs inside a UTF-8 sequence: the cut never splits a character.
    const end = bytes.lastIndexOf(newline) + 1;
    if (end === 0) {
      held = bytes;
    } else {
      pass(end === bytes.length ? bytes : bytes.subarray(0, end));
      held = end === bytes.length ? undefined : bytes.subarray(end);
    }
    if (held !== undefined && held.length > maxHeldBytes) {
      passUnended(held);
      held = undefined;
    }
    if (destination.waitingBytes > pauseAboveBytes && !source.isPaused()) {
      source.pause();
      destination.flush(() => source.resume());
    }
  });
  return new Promise((resolve) => {
    const finish = (): void => {
      if (held !== undefined) passUnended(held);
      held = undefined;
      resolve();
    };
    source.once('end', finish);
    // A pipe that failed ends no more: what was held is passed on all the same.
    source.once('error', finish);
  });
}
