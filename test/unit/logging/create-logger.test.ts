import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { ConfigurationError, InvalidArgumentError } from '../../../src/errors.js';
import { runWithRequestContext } from '../../../src/http/context.js';
import { createLogger } from '../../../src/logging/logger.js';
import { captureLogs } from '../../support/log-capture.js';
import { stubLoggerEnvironment as stubEnvironment } from '../../support/logger-environment.js';
import { testRequestContext } from '../../support/request-context.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

function firstLine(options: Parameters<typeof createLogger>[0], level: 'debug' | 'info' = 'info') {
  const logs = captureLogs();
  const logger = createLogger({ ...options, destination: logs });
  logger[level]('hello');
  return logs.lines[0];
}

describe('createLogger reads what options leave out as bootstrapAppRunner does', () => {
  it('takes level, service, version and region from the environment', () => {
    stubEnvironment({
      LOG_LEVEL: 'DEBUG',
      SERVICE_NAME: 'notes',
      SERVICE_VERSION: '1.2.3',
      AWS_REGION: 'eu-west-1',
    });
    expect(firstLine({}, 'debug')).toMatchObject({
      level: 'debug',
      service: 'notes',
      version: '1.2.3',
      region: 'eu-west-1',
      msg: 'hello',
    });
  });

  it('lets options win over the environment', () => {
    stubEnvironment({
      LOG_LEVEL: 'debug',
      SERVICE_NAME: 'notes',
      SERVICE_VERSION: '1.2.3',
      AWS_REGION: 'eu-west-1',
    });
    const line = firstLine({ service: 'orders', version: '9', region: 'us-east-2', level: 'info' });
    expect(line).toMatchObject({ service: 'orders', version: '9', region: 'us-east-2' });
    expect(firstLine({ level: 'info' }, 'debug')).toBeUndefined();
  });

  it('falls back to OTEL_SERVICE_NAME, AWS_DEFAULT_REGION, then package.json of the working directory', () => {
    stubEnvironment({ OTEL_SERVICE_NAME: 'otel-notes', AWS_DEFAULT_REGION: 'ap-south-1' });
    expect(firstLine({})).toMatchObject({ service: 'otel-notes', region: 'ap-south-1' });
    stubEnvironment({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=billing,service.version=2.0.0' });
    expect(firstLine({})).toMatchObject({ service: 'billing', version: '2.0.0' });
    stubEnvironment({});
    const pkg = loadConfig({ env: {} }).config; // the same package.json (the working directory's)
    const line = firstLine({});
    expect(line).toMatchObject({ level: 'info', service: pkg.service });
    expect(line?.version).toBe(pkg.version);
    expect(line).not.toHaveProperty('region');
  });

  it.each(['team=50%,service.name=billing', 'a=b,c,service.name=billing', 'bad key=1,service.name=billing'])(
    'takes service.name of OTEL_RESOURCE_ATTRIBUTES=%j, leaving out the pairs it cannot read (no throw)',
    (attributes) => {
      stubEnvironment({ OTEL_RESOURCE_ATTRIBUTES: attributes });
      expect(firstLine({})).toMatchObject({ service: 'billing' });
    },
  );

  it('refuses a LOG_LEVEL it does not know, naming the variable', () => {
    stubEnvironment({ LOG_LEVEL: 'verbose' });
    expect(() => createLogger()).toThrow(ConfigurationError);
    expect(() => createLogger()).toThrow(/LOG_LEVEL/);
    expect(() => createLogger({ level: 'warn' })).toThrow(/LOG_LEVEL/); // read whatever the options say
  });
});

describe('createLogger refuses what the config refuses', () => {
  it('a debugSampleRate outside 0 to 1', () => {
    expect(() => createLogger({ service: 'notes', debugSampleRate: 5 })).toThrow(InvalidArgumentError);
    expect(() => createLogger({ service: 'notes', debugSampleRate: Number.NaN })).toThrow(
      /debugSampleRate NaN/,
    );
  });

  it('a debugRequests that is not a function', () => {
    expect(() => createLogger({ service: 'notes', debugRequests: 'x-debug' as never })).toThrow(
      /createLogger: debugRequests "x-debug"/,
    );
  });

  it('a service or version that is not a name, and trims one with spaces around it', () => {
    stubEnvironment({});
    expect(() => createLogger({ service: '' })).toThrow(InvalidArgumentError);
    expect(() => createLogger({ service: 'a\nb' })).toThrow(/createLogger: service/);
    expect(() => createLogger({ version: 'v'.repeat(129) })).toThrow(/createLogger: version/);
    expect(firstLine({ service: ' notes ', version: ' 1 ' })).toMatchObject({
      service: 'notes',
      version: '1',
    });
  });
});

describe('a child bound to a requestId of its own', () => {
  /** Lines as written, unparsed: a key written twice would be lost in parsing. */
  function rawLines() {
    const lines: string[] = [];
    return { lines, write: (line: string) => void lines.push(line) };
  }
  const keyCount = (line: string, key: string) => line.split(`"${key}":`).length - 1;

  it("carries the request's id once, with its traceId and fields; so do its children and other loggers", () => {
    const out = rawLines();
    const logger = createLogger({ service: 'svc', destination: out });
    const context = testRequestContext('from-the-context', {
      traceId: '1-5759e988-bd862e3fe1be46a994272793',
      fields: { tenant: 'acme' },
    });
    runWithRequestContext(context, () => {
      const bound = logger.child({ requestId: 'from-the-context' });
      bound.info('bound');
      bound.child({ part: 'db' }).info('grandchild');
      logger.child({ part: 'db' }).info('unbound');
      logger.info('root');
    });
    const [bound, grandchild, unbound, root] = out.lines;
    for (const line of [bound!, grandchild!, unbound!, root!]) expect(keyCount(line, 'requestId')).toBe(1);
    expect(JSON.parse(bound!)).toMatchObject({
      requestId: 'from-the-context',
      traceId: '1-5759e988-bd862e3fe1be46a994272793',
      tenant: 'acme',
    });
    expect(JSON.parse(grandchild!)).toMatchObject({
      requestId: 'from-the-context',
      part: 'db',
      tenant: 'acme',
    });
    expect(JSON.parse(unbound!)).toMatchObject({ requestId: 'from-the-context', part: 'db' });
    expect(JSON.parse(root!)).toMatchObject({ requestId: 'from-the-context', tenant: 'acme' });
  });

  it("keeps a line's own requestId (another system's), with the request's traceId and fields still on it", () => {
    const out = rawLines();
    const logger = createLogger({ service: 'svc', destination: out });
    const context = testRequestContext('from-the-context', {
      traceId: '1-5759e988-bd862e3fe1be46a994272793',
      fields: { tenant: 'acme' },
    });
    runWithRequestContext(context, () => logger.info({ requestId: 'upstream-abc' }, 'own id'));
    expect(keyCount(out.lines[0]!, 'requestId')).toBe(1);
    expect(JSON.parse(out.lines[0]!)).toMatchObject({
      requestId: 'upstream-abc',
      traceId: '1-5759e988-bd862e3fe1be46a994272793',
      tenant: 'acme',
    });
  });

  it("leaves the request's requestId last, as before, when bound to another", () => {
    const out = rawLines();
    const logger = createLogger({ service: 'svc', destination: out });
    runWithRequestContext(testRequestContext('from-the-context'), () => {
      logger.child({ requestId: 'another' }).info('bound to another');
    });
    expect(JSON.parse(out.lines[0]!)).toMatchObject({ requestId: 'from-the-context' });
  });

  it('keeps its requestId outside a request, and a gated logger marks its children too', () => {
    const out = rawLines();
    const logger = createLogger({ service: 'svc', destination: out, debugSampleRate: 0.5 });
    logger.child({ requestId: 'job-7' }).info('outside');
    runWithRequestContext(testRequestContext('bound'), () => {
      logger.child({ requestId: 'bound' }).info('inside');
    });
    expect(out.lines.map((line) => keyCount(line, 'requestId'))).toEqual([1, 1]);
    expect(out.lines.map((line) => (JSON.parse(line) as { requestId: string }).requestId)).toEqual([
      'job-7',
      'bound',
    ]);
  });
});

describe('createLogger({ messageKey })', () => {
  it("writes the message under 'message', on the app's lines and its children's", () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 'svc', destination: logs, messageKey: 'message' });
    logger.info('from the root');
    logger.child({ part: 'db' }).warn({ rows: 2 }, 'from a child');
    expect(logs.lines).toEqual([
      expect.objectContaining({ message: 'from the root' }),
      expect.objectContaining({ message: 'from a child', part: 'db', rows: 2 }),
    ]);
    expect(logs.lines.filter((line) => 'msg' in line)).toEqual([]);
  });

  it("refuses a key other than 'msg' and 'message'", () => {
    expect(() => createLogger({ service: 'svc', messageKey: 'text' as never })).toThrow(
      /createLogger: messageKey "text".*'msg' or 'message'/,
    );
  });
});

describe('createLogger({ messageKey }) and the line limit', () => {
  it("keeps the message under its key when a line too wide keeps only the kit's fields", () => {
    const logs = captureLogs();
    const logger = createLogger({
      service: 'svc',
      destination: logs,
      messageKey: 'message',
      maxLineBytes: 1_024,
    });
    logger.info(Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`f${i}`, i])), 'wide');
    expect(logs.lines[0]).toMatchObject({ message: 'wide', service: 'svc', truncated: true });
  });
});

describe("a line's own level and time", () => {
  it("are left out, with one warning each: a second key would be read in place of the line's own", () => {
    const warned = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const logs = captureLogs();
      const logger = createLogger({ service: 'svc', destination: logs, pretty: false });
      logger.warn({ level: 'admin', time: 'morning', user: 'u-1' }, 'first');
      runWithRequestContext(testRequestContext('req-1'), () => logger.warn({ level: 'admin' }, 'second'));
      const [first, second] = logs.lines;
      // JSON.parse keeps the last of two keys: the app's `level` once made this an `admin` line.
      expect(first).toMatchObject({ level: 'warn', user: 'u-1', msg: 'first' });
      expect(first!.time).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(second).toMatchObject({ level: 'warn', requestId: 'req-1', msg: 'second' });
      expect(warned.mock.calls.map(([message]) => String(message).match(/field "(\w+)"/)?.[1])).toEqual([
        'level',
        'time',
      ]);
    } finally {
      warned.mockRestore();
    }
  });
});
