import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationStream } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  cutSlot,
  type MutableRequestContext,
  noRequestFields,
  plainIdSlot,
  quietSlot,
} from '../../../src/http/context.js';
import { createLogger, jsonString, rawLineWriter } from '../../../src/logging/logger.js';
import { redaction } from '../../../src/logging/redaction.js';
import { requestLineHook } from '../../../src/logging/request-line.js';

const levels = { success: 'info', clientError: 'info', serverError: 'error', aborted: 'warn' } as const;

function capture(): DestinationStream & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (line: string) => lines.push(line) };
}

interface Case {
  readonly name: string;
  readonly rawHeaders?: string[];
  readonly url?: string;
  readonly status?: number;
  readonly finished?: boolean;
  /** Whether the response began (its headers went out): by default, when it finished. */
  readonly headersSent?: boolean;
  readonly contentLength?: string | number;
  readonly context?: Partial<MutableRequestContext>;
}

function fakeRequest(c: Case): { req: IncomingMessage; res: ServerResponse; context: MutableRequestContext } {
  const req = {
    method: 'GET',
    url: c.url ?? '/notes/7?token=abc',
    rawHeaders: c.rawHeaders ?? ['Host', 'example.com', 'User-Agent', 'curl/8.0'],
    socket: { remoteAddress: '::ffff:10.0.0.9' },
  } as unknown as IncomingMessage;
  const res = {
    statusCode: c.status ?? 200,
    writableFinished: c.finished ?? true,
    writableEnded: c.finished ?? true,
    headersSent: c.headersSent ?? c.finished ?? true,
    getHeader: (name: string) => (name === 'content-length' ? c.contentLength : undefined),
  } as unknown as ServerResponse;
  const context: MutableRequestContext = {
    requestId: 'req-1',
    traceHeader: undefined,
    traceId: undefined,
    route: undefined,
    startedAt: performance.now(),
    debugSampled: false,
    fields: noRequestFields,
    ...c.context,
  };
  return { req, res, context };
}

/** The line, with the fields that depend on the clock made fixed. */
function normalised(line: string): string {
  return line.replace(/"time":"[^"]+"/, '"time":"T"').replace(/"durationMs":[\d.e-]+/, '"durationMs":0');
}

const cases: Case[] = [
  { name: 'a plain request', contentLength: '17' },
  {
    name: 'traced, routed, forwarded',
    rawHeaders: [
      'user-agent',
      'Mozilla/5.0 (X11) "quoted" \\ back',
      'X-Forwarded-For',
      '198.51.100.1, 203.0.113.5', // what the caller sent, then what the proxy in front appended
    ],
    context: { traceId: '1-5f84c7a1-0123456789abcdef01234567', route: '/notes/:id' },
    contentLength: 2048,
  },
  { name: 'control characters and unicode', rawHeaders: ['User-Agent', 'tab\there\u0001 é ✓ 😀 \ud800'] },
  { name: 'a server error', status: 503 },
  { name: 'an aborted request', finished: false, status: 200 },
  {
    name: 'a request aborted after its response began',
    finished: false,
    headersSent: true,
    status: 200,
    contentLength: 4096,
  },
  {
    name: 'a response the server cut short',
    finished: false,
    headersSent: true,
    status: 200,
    contentLength: 4096,
    context: { [cutSlot]: true },
  },
  { name: 'a client error without headers', status: 404, rawHeaders: [], contentLength: 'not a number' },
  { name: 'a path that needs escaping', url: '/a"b\\c\u0007' },
  { name: 'an adopted request id that needs escaping', context: { requestId: 'a"b\\c' } },
  {
    name: 'a request id the scope marked plain',
    context: { requestId: 'b3459ea7-daf0-469e-8b48-c1dd2b3cf298', [plainIdSlot]: true },
  },
  {
    name: 'request fields, names and values that need escaping',
    context: {
      fields: { tenant: 'a"cme', orders: 3, ratio: 0.25, admin: false, plan: null, 'we\\ird"': 'é\n' },
    },
  },
];

describe('the request line', () => {
  it('is written by the raw writer exactly as pino writes the same fields', () => {
    const fast = capture();
    const fastLogger = createLogger({ service: 'svc', instance: 'host-1', destination: fast });
    // A redact path turns the raw writer off: this logger writes every line through pino.
    const slow = capture();
    const slowLogger = createLogger({
      service: 'svc',
      instance: 'host-1',
      destination: slow,
      redact: ['nothing.here'],
    });
    expect(rawLineWriter(fastLogger)).toBeTypeOf('function');
    expect(rawLineWriter(slowLogger)).toBeUndefined();
    const fastHook = requestLineHook(fastLogger, { levels, query: false });
    const slowHook = requestLineHook(slowLogger, { levels, query: false });
    for (const c of cases) {
      const { req, res, context } = fakeRequest(c);
      fastHook(context, req, res);
      slowHook(context, req, res);
    }
    expect(fast.lines).toHaveLength(cases.length);
    for (let i = 0; i < cases.length; i++) {
      expect(normalised(fast.lines[i]!), cases[i]!.name).toBe(normalised(slow.lines[i]!));
      expect(() => JSON.parse(fast.lines[i]!), cases[i]!.name).not.toThrow();
    }
    const plain = JSON.parse(fast.lines[0]!);
    expect(plain).toMatchObject({
      level: 'info',
      service: 'svc',
      instance: 'host-1',
      requestId: 'req-1',
      method: 'GET',
      path: '/notes/7',
      statusCode: 200,
      bytes: 17,
      userAgent: 'curl/8.0',
      clientIp: '10.0.0.9',
      msg: 'request completed',
    });
    expect(JSON.parse(fast.lines[1]!).clientIp).toBe('203.0.113.5');
    expect(JSON.parse(fast.lines[3]!)).toMatchObject({ level: 'error', msg: 'request failed' });
    expect(JSON.parse(fast.lines[4]!)).toMatchObject({ level: 'warn', msg: 'request aborted' });
    expect(JSON.parse(fast.lines[4]!)).not.toHaveProperty('statusCode'); // nothing was sent
    expect(JSON.parse(fast.lines[5]!)).toMatchObject({
      level: 'warn',
      msg: 'request aborted',
      statusCode: 200,
    });
    expect(JSON.parse(fast.lines[6]!)).toMatchObject({
      level: 'error',
      msg: 'request failed',
      statusCode: 200,
    });
    // The length declared is not what went out of a response aborted or cut short.
    expect(JSON.parse(fast.lines[5]!)).not.toHaveProperty('bytes');
    expect(JSON.parse(fast.lines[6]!)).not.toHaveProperty('bytes');
  });

  it('masks registered secret values on the raw path too', () => {
    const out = capture();
    const logger = createLogger({ service: 'svc', destination: out });
    redaction.addValue('s3cr3t-token-value');
    try {
      const { req, res, context } = fakeRequest({
        name: 'secret',
        url: '/cb?x=1',
        rawHeaders: ['User-Agent', 'bot s3cr3t-token-value'],
      });
      requestLineHook(logger, { levels, query: false })(context, req, res);
      expect(out.lines[0]).not.toContain('s3cr3t-token-value');
      expect(JSON.parse(out.lines[0]!).userAgent).toBe('bot [REDACTED]');
    } finally {
      redaction.removeValue('s3cr3t-token-value');
    }
  });

  it("writes no line for an outcome whose level is 'silent'", () => {
    const out = capture();
    const logger = createLogger({ service: 'svc', destination: out });
    const hook = requestLineHook(logger, { levels: { ...levels, clientError: 'silent' }, query: false });
    for (const status of [200, 404, 500]) {
      const { req, res, context } = fakeRequest({ name: String(status), status });
      hook(context, req, res);
    }
    expect(out.lines.map((line) => JSON.parse(line).statusCode)).toEqual([200, 500]);
    expect(out.lines.join('')).not.toContain('silent');
  });

  it("still logs a route's error when the outcome's level is 'silent'", () => {
    const out = capture();
    const logger = createLogger({ service: 'svc', destination: out });
    const hook = requestLineHook(logger, { levels: { ...levels, serverError: 'silent' }, query: false });
    const { req, res, context } = fakeRequest({
      name: 'boom',
      status: 500,
      context: { error: new Error('boom') },
    });
    hook(context, req, res);
    expect(out.lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'request error',
        requestId: 'req-1',
        err: expect.objectContaining({ message: 'boom' }),
      }),
    ]);
  });

  it('writes nothing for a quiet request that did not fail, its route error below 500 included', () => {
    const out = capture();
    const logger = createLogger({ service: 'svc', destination: out });
    const hook = requestLineHook(logger, { levels, query: false });
    for (const [status, finished, error] of [
      [200, true, undefined],
      [401, true, new Error('unauthorised')],
      [500, true, new Error('boom')],
      [200, false, undefined],
    ] as const) {
      const { req, res, context } = fakeRequest({
        name: String(status),
        status,
        finished,
        context: { [quietSlot]: true, error },
      });
      hook(context, req, res);
    }
    expect(out.lines.map((line) => [JSON.parse(line).statusCode, JSON.parse(line).msg])).toEqual([
      [500, 'request failed'],
      [undefined, 'request aborted'], // nothing was sent: no status to claim
    ]);
  });

  it('follows the logger level set at run time', () => {
    const out = capture();
    const logger = createLogger({ service: 'svc', destination: out });
    const hook = requestLineHook(logger, { levels, query: false });
    logger.level = 'warn';
    const ok = fakeRequest({ name: 'ok' });
    hook(ok.context, ok.req, ok.res);
    const failed = fakeRequest({ name: 'failed', status: 500 });
    hook(failed.context, failed.req, failed.res);
    expect(out.lines.map((line) => JSON.parse(line).msg)).toEqual(['request failed']);
  });
});

describe('jsonString', () => {
  it('quotes plain text as it is and escapes the rest as JSON.stringify does', () => {
    for (const value of ['', 'plain', 'é✓😀', 'a"b', 'a\\b', '\n\t\u0000', '\ud83d', '\udc00x', '\u2028'])
      expect(jsonString(value)).toBe(JSON.stringify(value));
  });
});
