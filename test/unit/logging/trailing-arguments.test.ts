import Fastify, { LogController } from 'fastify';
import { describe, expect, it } from 'vitest';
import { runWithRequestContext } from '../../../src/http/context.js';
import { flushRequestLogs } from '../../../src/logging/held-lines.js';
import { type CreateLoggerOptions, createLogger } from '../../../src/logging/logger.js';
import { captureLogs } from '../../support/log-capture.js';
import { testRequestContext } from '../../support/request-context.js';

/**
 * The logger as code that takes a console-like logger calls it (a library given `runtime.logger`,
 * JavaScript, Powertools Logger's order): pino's types accept only its own order.
 */
type ConsoleLike = Record<'trace' | 'debug' | 'info' | 'warn' | 'error', (...args: unknown[]) => void>;

function kitLogger(options: Omit<CreateLoggerOptions, 'destination'> = {}) {
  const logs = captureLogs();
  const logger = createLogger({
    service: 'svc',
    instance: 'host',
    pretty: false,
    ...options,
    destination: logs,
  });
  return { logger, log: logger as unknown as ConsoleLike, logs };
}

/** A line without its time, to compare two calls' lines. */
function timeless(line: Record<string, unknown> | undefined): Record<string, unknown> {
  const { time: _time, ...rest } = line ?? {};
  return rest;
}

describe('an error after the message (logger.error(msg, err))', () => {
  it('is written under err with its message and stack, as logger.error({ err }, msg) writes it', () => {
    // Arrange
    const { logger, log, logs } = kitLogger();
    const err = new Error('card declined');

    // Act
    log.error('payment failed', err);
    logger.error({ err }, 'payment failed');

    // Assert
    const [trailing, leading] = logs.lines;
    expect(trailing).toMatchObject({
      level: 'error',
      msg: 'payment failed',
      err: { type: 'Error', message: 'card declined', stack: err.stack },
    });
    expect(timeless(trailing)).toEqual(timeless(leading));
  });

  it('keeps an AggregateError with its errors, and an error-like object of another realm', () => {
    // Arrange
    const { log, logs } = kitLogger();
    const aggregate = new AggregateError([new Error('first'), new Error('second')], 'all failed');
    const foreign = {
      name: 'Error',
      message: 'from a vm context',
      stack: 'Error: from a vm context\n    at x',
    };

    // Act
    log.error('fan-out failed', aggregate);
    log.error('worker failed', foreign);

    // Assert
    expect(logs.lines[0]?.err).toMatchObject({
      type: 'AggregateError',
      message: 'all failed',
      aggregateErrors: [{ message: 'first' }, { message: 'second' }],
    });
    expect(logs.lines[1]?.err).toMatchObject({ message: 'from a vm context', stack: foreign.stack });
    expect(logs.lines[1]?.msg).toBe('worker failed');
  });
});

describe('a plain object after the message', () => {
  it('has its fields merged into the line, as logger.info(fields, msg) writes them', () => {
    // Arrange
    const { logger, log, logs } = kitLogger();

    // Act
    log.warn('retrying', { attempt: 2, orderId: 'o-1' });
    logger.warn({ attempt: 2, orderId: 'o-1' }, 'retrying');

    // Assert
    expect(logs.lines[0]).toMatchObject({ msg: 'retrying', attempt: 2, orderId: 'o-1' });
    expect(timeless(logs.lines[0])).toEqual(timeless(logs.lines[1]));
  });

  it("cannot replace the kit's fields nor give the line a second message: a request's body, logged after it", () => {
    const raw: string[] = [];
    const logs = captureLogs();
    const log = createLogger({
      service: 'svc',
      pretty: false,
      destination: {
        write: (text: string) => {
          raw.push(text);
          logs.write(text);
        },
      },
    }) as unknown as ConsoleLike;
    const body = {
      msg: 'FORGED',
      requestId: 'forged-id',
      service: 'x',
      name: 'n-1',
    };

    runWithRequestContext(testRequestContext('req-real'), () => log.info('user update', body));

    const [line] = raw;
    expect(line!.match(/"msg":/g)).toHaveLength(1);
    expect(line!.match(/"service":/g)).toHaveLength(1);
    expect(logs.lines[0]).toMatchObject({
      msg: 'user update',
      requestId: 'req-real',
      service: 'svc',
      name: 'n-1',
    });
    expect(line).not.toMatch(/forged|FORGED/);
  });

  it('keeps a field the line does not carry itself, and guards the ones it does (region when known)', () => {
    const { log, logs } = kitLogger({ region: 'eu-west-1' });
    // Outside a request the line has no requestId nor spanId: an object's own are its data.
    log.info('saved', { requestId: 'r-1', spanId: 's-1', region: 'evil-region' });
    expect(logs.lines[0]).toMatchObject({
      msg: 'saved',
      requestId: 'r-1',
      spanId: 's-1',
      region: 'eu-west-1',
    });
  });

  it("guards a child's bound requestId outside a request, and keeps a traceId an untraced request's line lacks", () => {
    const raw: string[] = [];
    const logger = createLogger({
      service: 'svc',
      pretty: false,
      destination: { write: (t: string) => raw.push(t) },
    });
    const job = logger.child({ requestId: 'job-1' }) as unknown as ConsoleLike;
    job.info('processing', { requestId: 'attacker' });
    runWithRequestContext(testRequestContext('req-2'), () =>
      (logger as unknown as ConsoleLike).info('untraced', { traceId: 't-1' }),
    );
    expect(raw[0]!.match(/"requestId":/g)).toHaveLength(1);
    expect(JSON.parse(raw[0]!)).toMatchObject({ requestId: 'job-1' });
    expect(JSON.parse(raw[1]!)).toMatchObject({ requestId: 'req-2', traceId: 't-1' });
  });
});

describe("pino's placeholders", () => {
  it('take their arguments first; what is left over reaches the line', () => {
    // Arrange
    const { log, logs } = kitLogger();
    const err = new Error('timeout');
    const job = { id: 7 };

    // Act
    log.error('%s failed', 'job', err);
    log.info('hello %s', 'world', { extra: false, n: 1 });
    log.info('%o', job, { after: true });
    log.info('%d of %d', 1, 2, 'left over');

    // Assert
    expect(logs.lines.map((line) => line.msg)).toEqual(['job failed', 'hello world', '{"id":7}', '1 of 2']);
    expect(logs.lines[0]?.err).toMatchObject({ message: 'timeout' });
    expect(logs.lines[1]).toMatchObject({ extra: false, n: 1 });
    expect(logs.lines[2]).toMatchObject({ after: true });
    expect(logs.lines[3]).toMatchObject({ extra: 'left over' });
  });

  it("count %% as pino's formatter does: it takes no argument, and is written % when given any", () => {
    // Arrange
    const { log, logs } = kitLogger();

    // Act
    log.info('%% of %s', 'disk', { disk: '/' });
    log.info('100%% done', new Error('but late'));

    // Assert
    expect(logs.lines[0]).toMatchObject({ msg: '% of disk', disk: '/' });
    expect(logs.lines[1]).toMatchObject({ msg: '100% done', err: { message: 'but late' } });
  });

  it('keep the message of a % that takes an argument without printing it, and the argument reaches the line', () => {
    // Arrange
    const { log, logs } = kitLogger();

    // Act
    log.warn('disk 95% full', { disk: '/data' });
    log.info('%d items', null);

    // Assert
    expect(logs.lines[0]).toMatchObject({ msg: 'disk 95% full', disk: '/data' });
    expect(logs.lines[1]).toMatchObject({ msg: '%d items', extra: null });
  });
});

describe('several arguments left over, and values that are not fields', () => {
  it('merges objects in order, puts the first error under err and every other value under extra', () => {
    // Arrange
    const { log, logs } = kitLogger();
    const first = new Error('first');

    // Act
    log.error(
      'batch failed',
      'b-1',
      { size: 3, retry: true },
      first,
      42,
      { retry: false },
      new Error('second'),
    );

    // Assert
    const line = logs.lines[0]!;
    expect(line).toMatchObject({ msg: 'batch failed', size: 3, retry: false, err: { message: 'first' } });
    expect(line.extra).toEqual(['b-1', 42, expect.objectContaining({ type: 'Error', message: 'second' })]);
  });

  it('writes a string left over under extra, not lost; undefined, which JSON cannot carry, adds nothing', () => {
    // Arrange
    const { log, logs } = kitLogger();

    // Act
    log.info('user signed in', 'u-1');
    log.info('nothing else', undefined);

    // Assert
    expect(logs.lines[0]).toMatchObject({ msg: 'user signed in', extra: 'u-1' });
    expect(logs.lines[1]).not.toHaveProperty('extra');
  });

  it('keeps a Date, an array, a symbol and a function as values, and never throws', () => {
    // Arrange
    const { log, logs } = kitLogger();
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();

    // Act
    const call = () =>
      log.info('values', new Date(0), [1, 2], Symbol('tag'), function named() {}, revoked.proxy);

    // Assert
    expect(call).not.toThrow();
    expect(logs.lines[0]?.extra).toEqual([
      '1970-01-01T00:00:00.000Z',
      [1, 2],
      'Symbol(tag)',
      '[Function: named]',
      expect.any(String),
    ]);
  });

  it("keeps a field named extra or err that the call gave, beside the kit's", () => {
    // Arrange
    const { log, logs } = kitLogger();

    // Act
    log.error('both', { err: 'a code', extra: 'mine' }, new Error('thrown'), 'left over');

    // Assert
    expect(logs.lines[0]).toMatchObject({
      err: 'a code',
      extra: ['mine', { type: 'Error', message: 'thrown' }, 'left over'],
    });
  });
});

describe('an object first, then the message and more', () => {
  it('writes the object, then what is left over, as if spread after it; an error first stays under err', () => {
    // Arrange
    const { log, logs } = kitLogger();
    const fields = { orderId: 'o-1' };

    // Act
    log.error(fields, 'charge %s failed', 'c-9', new Error('declined'));
    log.error(new Error('first'), 'two errors', { attempt: 3 });

    // Assert
    expect(logs.lines[0]).toMatchObject({
      orderId: 'o-1',
      msg: 'charge c-9 failed',
      err: { message: 'declined' },
    });
    expect(fields).toEqual({ orderId: 'o-1' }); // the caller's object is not changed
    expect(logs.lines[1]).toMatchObject({ msg: 'two errors', attempt: 3, err: { message: 'first' } });
  });

  it('writes a request or response given first under req or res, as pino does, never spread', () => {
    // Arrange: the shapes pino tells apart (a request: method, headers, socket; a response: setHeader).
    const { log, logs } = kitLogger();
    const req = {
      method: 'GET',
      url: '/orders?token=t',
      headers: { host: 'h', authorization: 'Bearer secret-token' },
      rawHeaders: ['Authorization', 'Bearer secret-token'],
      socket: { remoteAddress: '10.0.0.1', remotePort: 5000 },
    };
    const res = {
      statusCode: 201,
      setHeader: () => {},
      getHeaders: () => ({ 'set-cookie': 'sid=secret-cookie' }),
    };

    // Act
    log.info(req, 'served %s', '/orders', { attempt: 1 });
    log.info(res, 'answered', { attempt: 2 });

    // Assert
    expect(JSON.stringify(logs.lines)).not.toMatch(/secret-token|secret-cookie|rawHeaders/);
    expect(logs.lines[0]).toMatchObject({
      msg: 'served /orders',
      attempt: 1,
      req: { method: 'GET', url: '/orders' },
    });
    expect(logs.lines[1]).toMatchObject({ msg: 'answered', attempt: 2, res: { statusCode: 201 } });
  });
});

describe('loggers made from the kit logger', () => {
  it("a child and its child, with a msgPrefix whose placeholder takes an argument as pino's does", () => {
    // Arrange
    const { logger, logs } = kitLogger();
    const child = logger.child({ module: 'payments' }) as unknown as ConsoleLike;
    const prefixed = logger.child({}, { msgPrefix: '[%s] ' }).child({ part: 'db' }) as unknown as ConsoleLike;

    // Act
    child.error('payment failed', new Error('card declined'));
    prefixed.info('query', 'orders', { rows: 2 });

    // Assert
    expect(logs.lines[0]).toMatchObject({ module: 'payments', err: { message: 'card declined' } });
    expect(logs.lines[1]).toMatchObject({ part: 'db', msg: '[orders] query', rows: 2 });
  });

  it("Fastify's request.log", async () => {
    // Arrange
    const logs = captureLogs();
    const app = Fastify({
      loggerInstance: createLogger({ service: 'svc', destination: logs }),
      logController: new LogController({ disableRequestLogging: true }),
    });
    app.get('/', async (request) => {
      (request.log as unknown as ConsoleLike).error('handler failed', new Error('boom'));
      return 'ok';
    });

    // Act
    await app.inject({ url: '/' });
    await app.close();

    // Assert
    expect(logs.find('handler failed')[0]).toMatchObject({
      reqId: expect.any(String),
      err: { message: 'boom' },
    });
  });
});

describe('with the line gate on (log buffering, debug sampling)', () => {
  it('a line written and a line held and flushed keep what is left over', () => {
    // Arrange
    const { log, logs } = kitLogger({ buffer: true });

    // Act
    runWithRequestContext(testRequestContext('r-1'), () => {
      log.debug('held', { step: 1 }, new Error('held error'));
      log.warn('written', new Error('written error'));
      flushRequestLogs();
    });

    // Assert
    expect(logs.find('written')[0]).toMatchObject({ err: { message: 'written error' } });
    expect(logs.find('held')[0]).toMatchObject({ level: 'debug', step: 1, err: { message: 'held error' } });
  });

  it("a sampled request's debug line and a line above the level keep what is left over", () => {
    // Arrange
    const { log, logs } = kitLogger({ debugSampleRate: 0.5 });

    // Act
    runWithRequestContext(testRequestContext('picked', { debugSampled: true }), () => {
      log.debug('sampled', { cacheHit: false });
    });
    log.error('outside', new Error('boom'));
    log.debug('dropped', new Error('not written'));

    // Assert
    expect(logs.lines.map((line) => line.msg)).toEqual(['sampled', 'outside']);
    expect(logs.lines[0]).toMatchObject({ cacheHit: false });
    expect(logs.lines[1]).toMatchObject({ err: { message: 'boom' } });
  });
});
