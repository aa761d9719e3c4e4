import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/logging/logger.js';
import { captureLogs } from '../../support/log-capture.js';

/** Each line's keys in the order written: `JSON.parse` would keep only the last of two. */
function keysOf(line: string): string[] {
  return [...line.matchAll(/"(\w+)":/g)]
    .map(([, key]) => key!)
    .filter((key) => key === 'time' || key === 'level');
}

describe("a child's bound level and time", () => {
  it("are left out with the line's own warning: a bound time was written after the line's", () => {
    const warned = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const raw: string[] = [];
      const logs = captureLogs();
      const destination = {
        write(line: string) {
          raw.push(line);
          logs.write(line);
        },
      };
      const logger = createLogger({ service: 'svc', destination, pretty: false });
      const child = logger.child({ time: 'bound-time', level: 'admin', orderId: 'o-1' });
      child.info('first');
      child.child({ step: 2 }).warn('second');
      const [first, second] = logs.lines;
      expect(first).toMatchObject({ level: 'info', orderId: 'o-1', msg: 'first' });
      expect(first!.time).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(second).toMatchObject({ level: 'warn', orderId: 'o-1', step: 2, msg: 'second' });
      expect(raw.map(keysOf)).toEqual([
        ['level', 'time'],
        ['level', 'time'],
      ]);
      expect(warned.mock.calls.map(([, options]) => (options as { code?: string }).code)).toEqual([
        'ARK_LOG_FIELD_RESERVED',
        'ARK_LOG_FIELD_RESERVED',
      ]);
      expect(
        warned.mock.calls.map(([message]) => String(message).match(/field "(\w+)"/)?.[1]).sort(),
      ).toEqual(['level', 'time']);
    } finally {
      warned.mockRestore();
    }
  });
});
