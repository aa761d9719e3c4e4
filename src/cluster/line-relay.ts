import type { Readable } from 'node:stream';
import type { StdoutDestination } from '../logging/stdout-destination.js';

const newline = 0x0a;

/**
 * Longest part of a line kept while its end has not come: past it, what came is passed on as it is
 * (far above the kit's longest line, 256 KiB; output without newlines, a progress bar, must not
 * grow the primary's memory).
 */
export const maxHeldBytes = 1024 * 1024;

/**
 * Passes a worker's stdout on to the primary's, whole lines at a time. The workers of a cluster
 * otherwise share the container's stdout pipe, where a write longer than PIPE_BUF (4 KiB) from one
 * worker can be split around another's: a long line (an error with its causes, a large object) then
 * reaches the log store as two broken events. Here the primary is the pipe's one writer.
 *
 * Resolves once the worker's stdout ended (after the worker exited, and its last lines were passed
 * on). While `destination` holds more than it takes (its reader is slow), the worker's stdout is
 * paused, so the worker's own writer waits instead of the primary's memory growing.
 */
export function relayLines(
  source: Readable,
  destination: Pick<StdoutDestination, 'write' | 'takesLines' | 'flush'>,
): Promise<void> {
  let held: Buffer | undefined;
  const pass = (bytes: Buffer): void => {
    destination.write(bytes.toString('utf8'));
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
      pass(held);
      held = undefined;
    }
    if (!destination.takesLines) {
      source.pause();
      destination.flush(() => source.resume());
    }
  });
  return new Promise((resolve) => {
    const finish = (): void => {
      if (held !== undefined) pass(held);
      held = undefined;
      resolve();
    };
    source.once('end', finish);
    // A pipe that failed ends no more: what was held is passed on all the same.
    source.once('error', finish);
  });
}
