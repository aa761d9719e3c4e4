import { fstatSync } from 'node:fs';

/**
 * PIPE_BUF: a write of at most this many bytes to a pipe is atomic — taken whole or refused with
 * EAGAIN, never split around another writer's bytes (POSIX; 4,096 on Linux, 512 on macOS).
 */
export const pipeBufBytes = process.platform === 'darwin' ? 512 : 4096;

const newline = 0x0a;

/**
 * The most bytes one write to `fd` should carry: {@link pipeBufBytes} on a pipe or a socket, where
 * the app's own stdout writes (`console.log`) may land between two of the kit's; unbounded on a
 * file or a terminal, which a write from this thread takes whole.
 */
export function writeBytesFor(fd: number): number {
  try {
    const stats = fstatSync(fd);
    return stats.isFIFO() || stats.isSocket() ? pipeBufBytes : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY; // closed or odd: writes fail anyway, and are dropped then
  }
}

/**
 * Where the next write of `bytes` ends: after its last whole line that fits in `max` bytes, or
 * after its first line when that line alone is longer. A newline byte never occurs inside a UTF-8
 * sequence, so the cut never splits a character.
 */
export function batchEnd(bytes: Buffer, max: number): number {
  if (bytes.length <= max) return bytes.length;
  const last = bytes.lastIndexOf(newline, max - 1);
  if (last !== -1) return last + 1;
  const first = bytes.indexOf(newline, max);
  return first === -1 ? bytes.length : first + 1;
}

/**
 * Where the chunk of `text` from `start` ends: after its last line within `maxChars` characters, or
 * at `maxChars` (never inside a surrogate pair) when no line ends within them.
 */
export function chunkEnd(text: string, start: number, maxChars: number): number {
  if (text.length - start <= maxChars) return text.length;
  const limit = start + maxChars;
  const last = text.lastIndexOf('\n', limit - 1);
  if (last >= start) return last + 1;
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}

/** Lines begun in `text` from `start` (a last one without its newline counts). */
export function countLines(text: string | Buffer, start = 0): number {
  const end = text.length;
  let count = 0;
  let at = start;
  while (at < end) {
    const next = typeof text === 'string' ? text.indexOf('\n', at) : text.indexOf(newline, at);
    count++;
    if (next === -1) break;
    at = next + 1;
  }
  return count;
}
