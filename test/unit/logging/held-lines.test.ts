import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { ConfigurationError, InvalidArgumentError } from '../../../src/errors.js';
import { runWithRequestContext } from '../../../src/http/context.js';
import {
  endHeldLines,
  flushRequestLogs,
  logBufferBytes,
  resolveLogBuffer,
} from '../../../src/logging/held-lines.js';
import { createLogger, writesLevel } from '../../../src/logging/logger.js';
import { redaction } from '../../../src/logging/redaction.js';
import { captureLogs } from '../../support/log-capture.js';
import { testRequestContext } from '../../support/request-context.js';

/** A response as the scope's finish hook sees it: finished or not, with a status. */
function response(statusCode: number, finished = true): ServerResponse {
  return { statusCode, writableFinished: finished, writableEnded: finished } as ServerResponse;
}

const refuse = (field: string, value: unknown, accepted: string): never => {
  throw new Error(`${field}|${String(value)}|${accepted}`);
};

describe('resolveLogBuffer', () => {
  it('is off for undefined and false, and takes the defaults for true', () => {
    expect(resolveLogBuffer(undefined, 'b', refuse)).toBeUndefined();
    expect(resolveLogBuffer(false, 'b', refuse)).toBeUndefined();
    expect(resolveLogBuffer(true, 'b', refuse)).toEqual({
      threshold: 20,
      maxBytes: logBufferBytes.default,
      flushOnError: true,
    });
    expect(resolveLogBuffer({ level: 'warn', maxBytes: 1024, flushOnError: false }, 'b', refuse)).toEqual({
      threshold: 40,
      maxBytes: 1024,
      flushOnError: false,
    });
  });

  it.each([
    ['a string', 'debug', 'b'],
    ['an array', [], 'b'],
    ['error, never held', { level: 'error' }, 'b.level'],
    ['an unknown level', { level: 'verbose' }, 'b.level'],
    ['too few bytes', { maxBytes: 1023 }, 'b.maxBytes'],
    ['too many bytes', { maxBytes: logBufferBytes.max + 1 }, 'b.maxBytes'],
    ['a fraction of bytes', { maxBytes: 2048.5 }, 'b.maxBytes'],
    ['a string flag', { flushOnError: 'yes' }, 'b.flushOnError'],
    ['an unknown option', { size: 10 }, 'b.size'],
  ])('refuses %s, naming the field', (_name, value, field) => {
    expect(() => resolveLogBuffer(value, 'b', refuse)).toThrow(
      new RegExp(`^${field.replace('.', '\\.')}\\|`),
    );
  });

  it('is validated by createLogger (InvalidArgumentError) and by the config (ConfigurationError)', () => {
    expect(() => createLogger({ service: 's', buffer: { maxBytes: 10 } as never })).toThrow(
      InvalidArgumentError,
    );
    expect(() => createLogger({ service: 's', buffer: { maxBytes: 10 } as never })).toThrow(
      /createLogger: buffer\.maxBytes 10 is not valid: expected an integer from 1024 to 1048576/,
    );
    expect(() => loadConfig({ logging: { buffer: { level: 'fatal' } as never } })).toThrow(
      ConfigurationError,
    );
    expect(loadConfig({ logging: { buffer: true } }).config.logging.buffer).toBe(true);
    expect(loadConfig({}).config.logging.buffer).toBe(false);
  });
});

describe('held lines', () => {
  it('holds a request debug lines and writes them, in order and before the request line, when it fails', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, buffer: true });
    const context = testRequestContext('r-1');
    runWithRequestContext(context, () => {
      logger.debug({ step: 1 }, 'first');
      logger.child({ module: 'repo' }).trace('second');
      logger.info('written now');
    });
    expect(logs.lines.map((l) => l.msg)).toEqual(['written now']);
    endHeldLines(context, {} as never, response(503));
    logger.info({ requestId: 'r-1' }, 'request failed');
    expect(logs.lines.map((l) => l.msg)).toEqual(['written now', 'first', 'second', 'request failed']);
    expect(logs.lines[1]).toMatchObject({ level: 'debug', requestId: 'r-1', step: 1 });
    expect(logs.lines[2]).toMatchObject({ level: 'trace', requestId: 'r-1', module: 'repo' });
  });

  it('drops them when the request ends well, and writes them when it was aborted', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, buffer: true });
    const ok = testRequestContext('ok');
    const aborted = testRequestContext('aborted');
    runWithRequestContext(ok, () => logger.debug('ok line'));
    runWithRequestContext(aborted, () => logger.debug('aborted line'));
    endHeldLines(ok, {} as never, response(404));
    endHeldLines(aborted, {} as never, response(200, false));
    expect(logs.lines.map((l) => [l.msg, l.requestId])).toEqual([['aborted line', 'aborted']]);
  });

  it('writes nothing below the level outside requests, nor after the request ended', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, buffer: true });
    const context = testRequestContext('r');
    logger.debug('outside');
    endHeldLines(context, {} as never, response(200));
    runWithRequestContext(context, () => {
      logger.debug('late debug');
      logger.info('late info');
    });
    endHeldLines(context, {} as never, response(500));
    expect(logs.lines.map((l) => l.msg)).toEqual(['late info']);
  });

  it('flushes before an error line, then holds again', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, buffer: true });
    const context = testRequestContext('r');
    runWithRequestContext(context, () => {
      logger.debug('before');
      logger.error('it broke');
      logger.debug('after');
    });
    expect(logs.lines.map((l) => l.msg)).toEqual(['before', 'it broke']);
    endHeldLines(context, {} as never, response(200));
    expect(logs.lines.map((l) => l.msg)).toEqual(['before', 'it broke']);
  });

  it('does not flush on an error line with flushOnError: false', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, buffer: { flushOnError: false } });
    const context = testRequestContext('r');
    runWithRequestContext(context, () => {
      logger.debug('before');
      logger.error('it broke');
    });
    expect(logs.lines.map((l) => l.msg)).toEqual(['it broke']);
  });

  it('holds the lines up to its level, and lets those above it follow the logger level', () => {
    const logs = captureLogs();
    const logger = createLogger({
      service: 's',
      destination: logs,
      level: 'warn',
      buffer: { level: 'info' },
    });
    const context = testRequestContext('r');
    runWithRequestContext(context, () => {
      logger.info('held info');
      logger.warn('written warn');
    });
    expect(logs.lines.map((l) => l.msg)).toEqual(['written warn']);
    endHeldLines(context, {} as never, response(500));
    expect(logs.lines.map((l) => l.msg)).toEqual(['written warn', 'held info']);
  });

  it('keeps the newest lines within maxBytes and says how many went, before the rest', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, buffer: { maxBytes: 1024 } });
    const context = testRequestContext('r');
    runWithRequestContext(context, () => {
      for (let i = 0; i < 20; i++) logger.debug({ i, pad: 'x'.repeat(100) }, 'line');
      logger.debug({ pad: 'y'.repeat(2000) }, 'too big alone');
    });
    endHeldLines(context, {} as never, response(500));
    const [warning, ...held] = logs.lines;
    const kept = held.map((l) => l.i);
    expect(kept.length).toBeGreaterThan(2);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, k) => 20 - kept.length + k));
    const totalBytes = held.reduce((sum, l) => sum + Buffer.byteLength(`${JSON.stringify(l)}\n`), 0);
    expect(totalBytes).toBeLessThanOrEqual(1024);
    expect(warning).toMatchObject({
      level: 'warn',
      requestId: 'r',
      heldLinesDropped: 20 - kept.length + 1,
      maxBytes: 1024,
    });
  });

  it('holds up to the larger maxBytes of the loggers that hold in a request', () => {
    const logs = captureLogs();
    const small = createLogger({ service: 's', destination: logs, buffer: { maxBytes: 1024 } });
    const large = createLogger({ service: 's', destination: logs, buffer: { maxBytes: 4096 } });
    const context = testRequestContext('r');
    runWithRequestContext(context, () => {
      small.debug({ pad: 'x'.repeat(600) }, 'from the small one');
      large.debug({ pad: 'y'.repeat(600) }, 'from the large one');
      small.debug({ pad: 'z'.repeat(600) }, 'from the small one again');
    });
    endHeldLines(context, {} as never, response(500));
    expect(logs.lines.map((l) => l.msg)).toEqual([
      'from the small one',
      'from the large one',
      'from the small one again',
    ]);
  });

  it('masks registered secrets and censors headers in held lines, as in any line', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, buffer: true });
    const context = testRequestContext('r');
    redaction.addValue('held-s3cr3t-value');
    try {
      runWithRequestContext(context, () =>
        logger.debug({ headers: { authorization: 'Bearer abc' }, note: 'key held-s3cr3t-value' }, 'h'),
      );
      endHeldLines(context, {} as never, response(500));
    } finally {
      redaction.removeValue('held-s3cr3t-value');
    }
    expect(logs.lines[0]).toMatchObject({
      headers: { authorization: '[REDACTED]' },
      note: 'key [REDACTED]',
    });
  });

  it('keeps each request to its own lines', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, buffer: true });
    const a = testRequestContext('a');
    const b = testRequestContext('b');
    runWithRequestContext(a, () => logger.debug('from a'));
    runWithRequestContext(b, () => logger.debug('from b'));
    runWithRequestContext(a, () => logger.debug('from a again'));
    endHeldLines(b, {} as never, response(200));
    endHeldLines(a, {} as never, response(502));
    expect(logs.lines.map((l) => [l.msg, l.requestId])).toEqual([
      ['from a', 'a'],
      ['from a again', 'a'],
    ]);
  });

  it('writes the request debug lines as they come in a debug-sampled request', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, buffer: true, debugSampleRate: 1 });
    const context = testRequestContext('r', { debugSampled: true });
    runWithRequestContext(context, () => logger.debug('sampled'));
    expect(logs.lines.map((l) => l.msg)).toEqual(['sampled']);
  });

  it('is off with level silent', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, buffer: true, level: 'silent' });
    const context = testRequestContext('r');
    runWithRequestContext(context, () => logger.debug('nothing'));
    endHeldLines(context, {} as never, response(500));
    expect(logs.lines).toEqual([]);
  });

  it('writes what the level lets through, a child or run-time level included, and holds only the rest of the configured level', () => {
    const logs = captureLogs();
    const verbose = createLogger({ service: 's', destination: logs, buffer: true, level: 'debug' });
    const logger = createLogger({ service: 's', destination: logs, buffer: true });
    const context = testRequestContext('r');
    runWithRequestContext(context, () => {
      verbose.debug('level debug');
      logger.child({}, { level: 'debug' }).debug('child at debug');
      logger.child({}, { level: 'trace' }).trace('child at trace');
      logger.child({}, { level: 'warn' }).info('child at warn: neither written nor held');
      logger.debug('held');
    });
    expect(logs.lines.map((l) => l.msg)).toEqual(['level debug', 'child at debug', 'child at trace']);
    logger.level = 'debug';
    logger.debug('outside, at run-time debug');
    logger.trace('outside, trace at run-time debug: dropped');
    logger.level = 'trace';
    logger.trace('outside, at run-time trace');
    endHeldLines(context, {} as never, response(500));
    expect(logs.lines.map((l) => l.msg)).toEqual([
      'level debug',
      'child at debug',
      'child at trace',
      'outside, at run-time debug',
      'outside, at run-time trace',
      'held',
    ]);
  });

  it('writes the dropped-lines warning whatever the level, before the kept lines', () => {
    const logs = captureLogs();
    const logger = createLogger({
      service: 's',
      destination: logs,
      level: 'error',
      buffer: { level: 'warn', maxBytes: 1024 },
    });
    const context = testRequestContext('r');
    runWithRequestContext(context, () => {
      for (let i = 0; i < 10; i++) logger.warn({ i, pad: 'x'.repeat(200) }, 'held warn');
    });
    endHeldLines(context, {} as never, response(500));
    expect(logs.lines[0]).toMatchObject({ level: 'warn', heldLinesDropped: expect.any(Number) });
    expect(logs.lines.slice(1).every((l) => l.msg === 'held warn')).toBe(true);
  });

  it('writes a line logged while a held line is serialised, and still holds the held one', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, buffer: true });
    const context = testRequestContext('r');
    const noisy = {
      toJSON() {
        logger.error('logged from toJSON');
        return 'noisy';
      },
    };
    runWithRequestContext(context, () => logger.debug({ noisy }, 'held with a noisy field'));
    expect(logs.lines.map((l) => l.msg)).toEqual(['logged from toJSON']);
    endHeldLines(context, {} as never, response(500));
    expect(logs.lines.map((l) => l.msg)).toEqual(['logged from toJSON', 'held with a noisy field']);
  });
});

describe('flushRequestLogs', () => {
  it('writes what the request holds now, and returns false outside a request or after it ended', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, buffer: true });
    const context = testRequestContext('r');
    expect(flushRequestLogs()).toBe(false);
    runWithRequestContext(context, () => {
      logger.debug('held');
      expect(flushRequestLogs()).toBe(true);
      logger.debug('held again');
    });
    expect(logs.lines.map((l) => l.msg)).toEqual(['held']);
    endHeldLines(context, {} as never, response(200));
    runWithRequestContext(context, () => expect(flushRequestLogs()).toBe(false));
    expect(logs.lines.map((l) => l.msg)).toEqual(['held']);
  });
});

describe('the level set at run time, with requests picked for debug lines', () => {
  it('is the configured one for a child made with customLevels, which does not throw', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, buffer: true });
    const audit = logger.child({}, { customLevels: { audit: 35 } });
    audit.debug('below the configured info: dropped');
    audit.info('written');
    expect(logs.lines.map((l) => l.msg)).toEqual(['written']);
  });

  it('is what writesLevel answers, for the logger and its children', () => {
    const logger = createLogger({ service: 's', destination: captureLogs(), buffer: true });
    const child = logger.child({ component: 'fastify' });
    expect([writesLevel(logger, 'debug'), writesLevel(child, 'debug'), writesLevel(child, 'info')]).toEqual([
      false,
      false,
      true,
    ]);
    logger.level = 'debug';
    expect([writesLevel(logger, 'debug'), writesLevel(child, 'debug'), writesLevel(child, 'trace')]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it("keeps writing a picked request's debug lines under a level set higher, child levels included", () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, debugSampleRate: 0.5, buffer: true });
    const picked = testRequestContext('picked', { debugSampled: true });
    const other = testRequestContext('other');
    logger.level = 'warn';
    expect(logger.level).toBe('warn'); // reads the level set, whatever pino runs at
    const route = logger.child({}, { level: 'error' }); // Fastify's route logLevel
    expect(route.level).toBe('error');
    runWithRequestContext(picked, () => {
      logger.debug('picked: debug');
      route.debug('picked: debug in a route at error');
      logger.trace('picked: trace, below what picks write');
    });
    runWithRequestContext(other, () => {
      logger.debug('other: debug under warn, neither written nor held');
      logger.info('other: info under warn, neither written nor held');
      route.warn('other: warn in a route at error');
      logger.warn('other: warn');
    });
    endHeldLines(other, {} as never, response(500)); // nothing was held under the level set
    logger.level = 'info';
    expect(logger.level).toBe('info');
    logger.info('outside: info again');
    expect(logs.lines.map((l) => l.msg)).toEqual([
      'picked: debug',
      'picked: debug in a route at error',
      'other: warn',
      'outside: info again',
    ]);
  });

  it("takes Fastify's level '' (a route without logLevel, before 5.12) as no level of its own", () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, buffer: true, debugSampleRate: 0.5 });
    const request = logger.child({ reqId: 'req-1' }, { level: '' as never });
    const context = testRequestContext('r');
    runWithRequestContext(context, () => request.debug('held, as from the root'));
    expect(logs.lines).toEqual([]);
    endHeldLines(context, {} as never, response(500));
    expect(logs.lines.map((l) => l.msg)).toEqual(['held, as from the root']);
  });

  it('keeps picking in a child made with customLevels under a level set', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, debugSampleRate: 0.5 });
    logger.level = 'warn';
    const audit = logger.child({}, { customLevels: { audit: 35 } });
    runWithRequestContext(testRequestContext('picked', { debugSampled: true }), () =>
      audit.debug('picked: debug in a child with custom levels'),
    );
    audit.info('outside: info under warn, dropped');
    expect(logs.lines.map((l) => l.msg)).toEqual(['picked: debug in a child with custom levels']);
  });

  it('keeps picking when it started at debug and the level is raised', () => {
    const logs = captureLogs();
    const logger = createLogger({
      service: 's',
      destination: logs,
      level: 'debug',
      debugRequests: () => true,
    });
    logger.debug('at the configured debug');
    logger.level = 'info';
    logger.debug('outside, under info: dropped');
    runWithRequestContext(testRequestContext('picked', { debugSampled: true }), () =>
      logger.debug('picked, under info'),
    );
    logger.level = 'silent';
    runWithRequestContext(testRequestContext('picked', { debugSampled: true }), () =>
      logger.error('silent is silent, picked or not'),
    );
    expect(logs.lines.map((l) => l.msg)).toEqual(['at the configured debug', 'picked, under info']);
  });

  it('applies at once, debug included', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 's', destination: logs, debugSampleRate: 0.5 });
    const child = logger.child({ module: 'repo' });
    logger.debug('at the configured info: dropped');
    logger.level = 'debug';
    logger.debug('at run-time debug');
    child.debug('a child made before, at run-time debug');
    expect(logs.lines.map((l) => l.msg)).toEqual([
      'at run-time debug',
      'a child made before, at run-time debug',
    ]);
  });
});
