import querystring from 'node:querystring';
import { describe, expect, it, vi } from 'vitest';
import { runWithRequestContext } from '../../../src/http/context.js';
import { type CreateLoggerOptions, createLogger } from '../../../src/logging/logger.js';
import { captureLogs } from '../../support/log-capture.js';
import { testRequestContext } from '../../support/request-context.js';

/** A console-like caller: pino's types take only its own order. */
type LooseLogger = Record<'info' | 'error', (...args: unknown[]) => void>;

/** Every call's line, each parsed by JSON.parse (captureLogs): none may throw. */
function linesOf(options: Partial<CreateLoggerOptions>, calls: (logger: LooseLogger) => void) {
  const logs = captureLogs();
  const logger = createLogger({ service: 'svc', pretty: false, ...options, destination: logs });
  expect(() => calls(logger as unknown as LooseLogger)).not.toThrow();
  return logs.lines;
}

const throwingGetter = {
  id: 7,
  get lazy(): unknown {
    throw new Error('not loaded');
  },
};

describe('a log call', () => {
  it.each([
    ['neither samples nor holds lines', {}],
    ['holds lines (log buffering)', { buffer: true }],
  ] as const)(
    'that pino throws on is written with what can be, never thrown, on a logger that %s',
    (_, options) => {
      const lines = linesOf(options, (logger) =>
        runWithRequestContext(testRequestContext('req-1'), () => {
          // Express 5's req.query: an object without a prototype, which %s cannot make text of.
          logger.info('query %s', querystring.parse('page=2'));
          logger.info('n=%d', Symbol('n'));
          logger.info(throwingGetter, 'lazy');
          logger.info({ a: 1 }, 'then %s', { toString: () => 'fine' });
        }),
      );
      expect(lines).toEqual([
        expect.objectContaining({
          msg: "query [Object: null prototype] { page: '2' }",
          serializationError: 'Cannot convert object to primitive value',
          requestId: 'req-1',
        }),
        expect.objectContaining({ msg: 'n=Symbol(n)', serializationError: expect.any(String) }),
        expect.objectContaining({ msg: 'lazy', id: 7, serializationError: 'not loaded' }),
        expect.objectContaining({ msg: 'then fine', a: 1 }),
      ]);
      expect(lines[3]).not.toHaveProperty('serializationError');
    },
  );

  it('with a symbol for a message writes its text: pino wrote "msg":undefined, not JSON', () => {
    const lines = linesOf({}, (logger) => {
      logger.info(Symbol('first'));
      logger.info({ a: 1 }, Symbol('second'));
    });
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'Symbol(first)' }),
      expect.objectContaining({ a: 1, msg: 'Symbol(second)' }),
    ]);
  });

  it('whose object cannot be read at all (a revoked Proxy) is written with its message', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const lines = linesOf({}, (logger) => logger.error(proxy, 'revoked'));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'revoked',
        serializationError: expect.stringContaining('revoked'),
      }),
    ]);
  });
});

describe('a destination that throws', () => {
  it('loses the lines without throwing into the app, and says so once on stderr', () => {
    const destination = {
      write(): void {
        throw new Error('disk gone');
      },
    };
    const logger = createLogger({ service: 'svc', pretty: false, destination });
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      expect(() => {
        logger.info('one');
        logger.error('two');
      }).not.toThrow();
    } finally {
      spy.mockRestore();
    }
    expect(written.filter((line) => line.includes('the log destination throws (disk gone)'))).toHaveLength(1);
  });
});
