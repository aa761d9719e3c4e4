import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.js';
import { redaction } from '../../../src/logging/redaction.js';
import { maskedError, maskedText } from '../../../src/tracing/masked-error.js';
import { captureLogs } from '../../support/log-capture.js';

describe('maskedError', () => {
  it('masks every registered value of a message, a value ending in a backslash beside a quote included', () => {
    redaction.addValue('pa55word\\');
    redaction.addValue('hunter2-very-secret');
    const error = maskedError(new Error('pa55word" then token hunter2-very-secret'));
    expect(error.message).toBe('pa55word" then token [REDACTED]');
    expect(maskedText('a "quoted" pa55word\\ here')).toBe('a "quoted" [REDACTED] here');

    // The log line stays JSON, and masked, too.
    const logs = captureLogs();
    createLogger({ service: 'svc', pretty: false, destination: logs }).info(
      'pa55word" then hunter2-very-secret',
    );
    expect(logs.lines[0]?.msg).toBe('pa55word" then [REDACTED]');
  });

  it('keeps the class and the own fields of the error it masks (code: the exception type OpenTelemetry writes)', () => {
    redaction.addValue('Tok-3c2b1a-code-secret');
    const original = Object.assign(new TypeError('refused with Tok-3c2b1a-code-secret'), {
      code: 'ECONNREFUSED',
      detail: 'token Tok-3c2b1a-code-secret',
    });
    const copy = maskedError(original) as TypeError & { code: string; detail: string };
    expect(copy).toBeInstanceOf(TypeError);
    expect(copy).toMatchObject({
      name: 'TypeError',
      message: 'refused with [REDACTED]',
      code: 'ECONNREFUSED',
      detail: 'token [REDACTED]',
    });
    expect(copy.stack).not.toContain('Tok-3c2b1a');
    expect(maskedError(original)).toBe(copy); // the same copy each time: X-Ray links by identity
  });

  it('never gives back an error it could not read unmasked', () => {
    redaction.addValue('Tok-unreadable-secret');
    const hostile = new Error('Tok-unreadable-secret');
    Object.defineProperty(hostile, 'message', {
      get() {
        throw new Error('no');
      },
    });
    expect(maskedError(hostile).message).toBe('[REDACTED]');
  });
});
