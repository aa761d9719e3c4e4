import type { writeSync } from 'node:fs';

/**
 * A stdout pipe for `StdoutDestination`'s `write` limit: it answers EAGAIN (full) until `drain()`,
 * then takes everything into `written`; `allow(bytes)` lets that many through first.
 */
export function pipeThatFills() {
  let full = true;
  let allowed = 0;
  const written: string[] = [];
  const write = ((_fd: number, data: Buffer) => {
    if (full && allowed === 0) throw Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' });
    const taken = full ? data.subarray(0, Math.min(allowed, data.length)) : data;
    if (full) allowed -= taken.length;
    written.push(taken.toString());
    return taken.length;
  }) as unknown as typeof writeSync;
  return {
    write,
    written,
    drain: () => {
      full = false;
    },
    allow: (bytes: number) => {
      allowed += bytes;
    },
  };
}
