import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { InstrumentationFailures } from '../../../src/tracing/instrumentation/failures.js';
import { captureLogs } from '../../support/log-capture.js';

describe('InstrumentationFailures', () => {
  it('logs a failure once per place, as a warning with the error', () => {
    const logs = captureLogs();
    const failures = new InstrumentationFailures(pino({ level: 'info' }, logs));
    for (let i = 0; i < 5; i++) failures.report('starting a fetch span', new Error(`boom ${i}`));
    failures.report('ending the request span', new Error('other'));
    expect(logs.lines.map((l) => [l.level, l.msg, (l.err as { message: string }).message])).toEqual([
      [40, 'tracing: starting a fetch span failed (logged once); the request goes on', 'boom 0'],
      [40, 'tracing: ending the request span failed (logged once); the request goes on', 'other'],
    ]);
  });
});
