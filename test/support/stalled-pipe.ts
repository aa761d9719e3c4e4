import type { writeSync } from 'node:fs';

/**
 * A stdout pipe for `StdoutDestination`'s `write` limit: it answers EAGAIN (full) until `drain()`,
 * then takes everything into `written`.
 */
export function pipeThatFills() {
  let full = true;
  const written: string[] = [];
  const write = ((_fd: number, data: Buffer) => {
    if (full) throw Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' });
    written.push(data.toString());
    return data.length;
  }) as unknown as typeof writeSync;
  return {
    write,
    written,
    drain: () => {
      full = false;
    },
  };
}
