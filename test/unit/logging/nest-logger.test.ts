import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/index.js';
import { nestLine, nestLogger } from '../../../src/logging/nest-logger.js';
import { captureLogs } from '../../support/log-capture.js';

describe('nestLogger', () => {
  it("maps Nest's levels onto pino's: log is info, verbose is trace", () => {
    const logs = captureLogs();
    const logger = nestLogger(createLogger({ destination: logs, level: 'trace' }));
    logger.log('a');
    logger.error('b');
    logger.warn('c');
    logger.debug('d');
    logger.verbose('e');
    logger.fatal('f');
    expect(logs.lines.map((l) => [l.level, l.msg])).toEqual([
      ['info', 'a'],
      ['error', 'b'],
      ['warn', 'c'],
      ['debug', 'd'],
      ['trace', 'e'],
      ['fatal', 'f'],
    ]);
  });

  it("takes the last string as the context, as Nest's Logger passes it", () => {
    expect(nestLine('info', 'Mapped {/cats, GET} route', ['RouterExplorer'])).toEqual({
      fields: { context: 'RouterExplorer' },
      msg: 'Mapped {/cats, GET} route',
    });
    expect(nestLine('info', 'with params', ['p1', 2, 'Ctx'])).toEqual({
      fields: { context: 'Ctx', params: ['p1', 2] },
      msg: 'with params',
    });
  });

  it("makes the stack of error(message, stack, context) the line's err, with its type and message", () => {
    const stack = new TypeError('no such pool').stack!;
    const { fields, msg } = nestLine('error', 'query failed', [stack, 'CatsService']);
    expect(msg).toBe('query failed');
    expect(fields.context).toBe('CatsService');
    expect(fields.err).toBeInstanceOf(Error);
    expect(fields.err).toMatchObject({ name: 'TypeError', message: 'no such pool', stack });
    // Nest's Logger with a context and no stack passes undefined in its place.
    expect(nestLine('error', 'plain', [undefined, 'Ctx'])).toEqual({
      fields: { context: 'Ctx' },
      msg: 'plain',
    });
    // A stack alone is no context.
    expect(nestLine('error', 'alone', [stack]).fields).toEqual({ err: expect.any(Error) });
  });

  it("writes an error given as the message (Nest 12's exception filter) as err, and an object's fields", () => {
    const logs = captureLogs();
    const logger = nestLogger(createLogger({ destination: logs }));
    logger.error(new Error('kaboom'), undefined, 'ExceptionsHandler');
    logger.log({ userId: 7 }, 'Users');
    expect(logs.lines[0]).toMatchObject({
      level: 'error',
      context: 'ExceptionsHandler',
      msg: 'kaboom',
      err: { type: 'Error', message: 'kaboom' },
    });
    expect(logs.lines[1]).toMatchObject({ level: 'info', context: 'Users', userId: 7 });
  });

  it("reads the other shapes Nest's ConsoleLogger reads: a message function, a class, a value that is no plain object", () => {
    let built = 0;
    const lazy = () => {
      built++;
      return `expensive ${built}`;
    };
    expect(nestLine('debug', lazy, ['Ctx'])).toEqual({ fields: { context: 'Ctx' }, msg: 'expensive 1' });
    class CatsService {}
    expect(nestLine('info', CatsService, []).msg).toBe('CatsService');
    const classify = () => 'called, not a class';
    expect(nestLine('info', classify, []).msg).toBe('called, not a class');
    const when = new Date(0);
    const map = new Map([['a', 1]]);
    expect(nestLine('info', 'at', [when, map, 'Ctx']).fields).toEqual({
      context: 'Ctx',
      params: [when, map],
    });
    expect(nestLine('info', when, []).fields).toEqual({ params: [when] });
  });

  it("writes error(err, err.stack) once, and keeps the context and the message over a parameter's fields", () => {
    const error = new Error('hook failed');
    expect(nestLine('error', error, [error.stack, 'NestApplication']).fields).toEqual({
      err: error,
      context: 'NestApplication',
    });
    expect(nestLine('info', 'saved', [{ id: 3, context: 'x', msg: 'y' }, 'Orders'])).toEqual({
      fields: { id: 3, context: 'Orders' },
      msg: 'saved',
    });
  });
});
