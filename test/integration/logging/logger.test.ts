import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, getRequestContext, redactedText, redaction } from '../../../src/index.js';
import { baseUrl, get } from '../../support/http.js';
import { captureLogs } from '../../support/log-capture.js';
import { openSocket, readResponse, request } from '../../support/raw-http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

const traceOf = (i: number) => `1-5759e988-${String(i).padStart(24, '0')}`;

describe('log lines inside requests', () => {
  it('carry requestId and traceId from nested async code, across concurrent requests, without mixing', async () => {
    const { runtime, logs } = await startRuntime({
      logging: { requests: false },
      app: async (req, res) => {
        const child = runtime.logger.child({ component: 'repo' });
        runtime.logger.info({ step: 1, tag: req.headers['x-tag'] }, 'start');
        await delay(Math.random() * 15);
        child.info({ step: 2, tag: req.headers['x-tag'] }, 'child line');
        await Promise.all([
          delay(Math.random() * 5).then(() =>
            runtime.logger.info({ step: 3, tag: req.headers['x-tag'] }, 'fan-out'),
          ),
          new Promise<void>((resolve) =>
            setImmediate(() => {
              child.child({ deeper: true }).info({ step: 4, tag: req.headers['x-tag'] }, 'grandchild');
              resolve();
            }),
          ),
        ]);
        res.end();
      },
    });
    const url = baseUrl(runtime.server!);
    const agent = new Agent({ keepAlive: true, maxSockets: 50 });
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        get(`${url}/`, {
          agent,
          headers: {
            'x-tag': String(i),
            'x-request-id': `r-${i}`,
            'x-amzn-trace-id': `Root=${traceOf(i)};Sampled=1`,
          },
        }),
      ),
    );
    agent.destroy();
    const tagged = logs.lines.filter((l) => l.tag !== undefined);
    expect(tagged).toHaveLength(200);
    for (const line of tagged) {
      expect(line.requestId).toBe(`r-${line.tag}`);
      expect(line.traceId).toBe(traceOf(Number(line.tag)));
    }
    expect(logs.lines.find((l) => l.msg === 'grandchild')).toMatchObject({ component: 'repo', deeper: true });
  });

  it('carry no request fields outside a request', async () => {
    const { runtime, logs } = await startRuntime();
    runtime.logger.info('outside');
    const line = logs.find('outside')[0]!;
    expect(line.requestId).toBeUndefined();
    expect(line.traceId).toBeUndefined();
  });

  it('have the base fields, the level as a label and an ISO time', async () => {
    const { runtime, logs } = await startRuntime({
      service: 'svc',
      version: '1.2.3',
      env: { AWS_REGION: 'eu-west-1' },
    });
    runtime.logger.warn('hello');
    const line = logs.find('hello')[0]!;
    expect(line).toMatchObject({ level: 'warn', service: 'svc', version: '1.2.3', region: 'eu-west-1' });
    expect(typeof line.instance).toBe('string');
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
  });
});

describe('the request line', () => {
  it('has every field, the query string left out', async () => {
    const { runtime, logs } = await startRuntime({
      app: (_req, res) => {
        res.setHeader('content-length', 5);
        res.end('hello');
      },
    });
    await get(`${baseUrl(runtime.server!)}/notes/7?token=abc`, {
      headers: {
        'user-agent': 'probe/1.0',
        'x-forwarded-for': '198.51.100.1, 203.0.113.9', // the caller's, then the proxy's
        'x-request-id': 'line-1',
        'x-amzn-trace-id': `Root=${traceOf(1)}`,
      },
    });
    const line = logs.find('request completed')[0]!;
    expect(line).toMatchObject({
      level: 'info',
      requestId: 'line-1',
      traceId: traceOf(1),
      method: 'GET',
      path: '/notes/7',
      statusCode: 200,
      bytes: 5,
      userAgent: 'probe/1.0',
      clientIp: '203.0.113.9',
    });
    expect(line.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('takes bytes from the head Node wrote: a length given to writeHead or added by end(body); none when chunked', async () => {
    const { runtime, logs } = await startRuntime({
      app: (req, res) => {
        if (req.url === '/head') res.writeHead(200, { 'content-length': '3' }).end('abc');
        else if (req.url === '/implicit') res.end('hello!');
        else res.writeHead(200).end('chunked');
      },
    });
    for (const path of ['/head', '/implicit', '/chunked']) await get(`${baseUrl(runtime.server!)}${path}`);
    await expect.poll(() => logs.find('request completed').length).toBe(3);
    expect(logs.find('request completed').map((line) => [line.path, line.bytes])).toEqual([
      ['/head', 3],
      ['/implicit', 6],
      ['/chunked', undefined],
    ]);
  });

  it('keeps the query with query: true, and uses the peer address without X-Forwarded-For', async () => {
    const { runtime, logs } = await startRuntime({ app: (_req, res) => res.end(), logging: { query: true } });
    await get(`${baseUrl(runtime.server!)}/a?b=c`);
    expect(logs.find('request completed')[0]).toMatchObject({ path: '/a?b=c', clientIp: '127.0.0.1' });
  });

  it('writes the path of an absolute-form target (GET http://host/a?b=c), not its scheme and host', async () => {
    const { runtime, logs } = await startRuntime({ app: (_req, res) => res.end(), logging: { query: true } });
    const socket = await openSocket((runtime.server!.address() as AddressInfo).port);
    try {
      socket.write(request('http://localhost/a?b=c'));
      await readResponse(socket);
      socket.write(request('http://localhost?b=c'));
      await readResponse(socket);
    } finally {
      socket.destroy();
    }
    await expect.poll(() => logs.find('request completed').length).toBe(2);
    expect(logs.find('request completed').map((line) => line.path)).toEqual(['/a?b=c', '/?b=c']);
  });

  it('names the client the proxies in front saw: a forged X-Forwarded-For entry is not taken (server.trustedProxies)', async () => {
    const forged = { 'x-forwarded-for': '1.2.3.4, 203.0.113.9, 130.176.0.1' };
    for (const [trustedProxies, clientIp] of [
      [undefined, '130.176.0.1'], // App Runner or an ALB: the entry it appended
      [2, '203.0.113.9'], // a CDN in front of the load balancer
      [0, expect.stringMatching(/127\.0\.0\.1$/)], // no proxy: the peer
    ] as const) {
      const { runtime, logs } = await startRuntime({
        app: (_req, res) => res.end(),
        ...(trustedProxies === undefined ? {} : { server: { trustedProxies } }),
      });
      await get(`${baseUrl(runtime.server!)}/`, { headers: forged });
      expect(logs.find('request completed')[0]?.clientIp).toEqual(clientIp);
    }
  });

  it('logs an aborted request as aborted, with the peer it came from', async () => {
    const { runtime, logs } = await startRuntime({ app: () => {} });
    await get(`${baseUrl(runtime.server!)}/never`, { timeoutMs: 100 }).catch(() => undefined);
    await expect.poll(() => logs.find('request aborted').length).toBe(1);
    // The socket is gone when the line is written: its address was read while it was open.
    expect(logs.find('request aborted')[0]).toMatchObject({
      level: 'warn',
      path: '/never',
      clientIp: '127.0.0.1',
    });
  });

  it('follows custom levels by outcome', async () => {
    const { runtime, logs } = await startRuntime({
      app: (req, res) => {
        res.statusCode = req.url === '/bad' ? 400 : 200;
        res.end();
      },
      logging: { requestLevels: { success: 'debug', clientError: 'warn' }, level: 'info' },
    });
    const url = baseUrl(runtime.server!);
    await get(`${url}/ok`);
    await get(`${url}/bad`);
    expect(logs.lines.filter((l) => l.msg === 'request completed').map((l) => [l.path, l.level])).toEqual([
      ['/bad', 'warn'],
    ]);
  });

  it("writes every line's message under logging.messageKey: the request line, the kit's own, the app's", async () => {
    for (const redact of [[], ['user.password']]) {
      // With redact paths, the request line goes through pino rather than the kit's raw writer.
      const { runtime, logs } = await startRuntime({
        app: (_req, res) => {
          runtime.logger.info('in the app');
          res.end();
        },
        logging: { messageKey: 'message', redact },
      });
      await get(`${baseUrl(runtime.server!)}/notes`, { headers: { 'x-request-id': 'key-1' } });
      await runtime.shutdown('test');
      const messages = logs.lines.map((line) => line.message);
      expect(messages).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^listening on port/),
          'in the app',
          'request completed',
          'shutdown complete',
        ]),
      );
      expect(logs.lines.filter((line) => 'msg' in line || typeof line.message !== 'string')).toEqual([]);
      expect(logs.lines.find((line) => line.message === 'request completed')).toMatchObject({
        requestId: 'key-1',
        path: '/notes',
      });
    }
  });

  it('logs health requests only when asked', async () => {
    const quiet = await startRuntime({ app: (_req, res) => res.end() });
    await get(`${baseUrl(quiet.runtime.server!)}/healthz`);
    expect(quiet.logs.find('request completed')).toHaveLength(0);
    const chatty = await startRuntime({ app: (_req, res) => res.end(), logging: { healthRequests: true } });
    await get(`${baseUrl(chatty.runtime.server!)}/healthz`);
    expect(chatty.logs.find('request completed')[0]).toMatchObject({ path: '/healthz', statusCode: 200 });
  });
});

describe('redaction', () => {
  it('censors sensitive headers by default and custom paths when asked', async () => {
    const { runtime, logs } = await startRuntime({ logging: { redact: ['user.password'] } });
    runtime.logger.info(
      {
        req: { headers: { authorization: 'Bearer abc', cookie: 'sid=1', 'x-api-key': 'k', accept: '*/*' } },
        headers: { 'proxy-authorization': 'Basic x' },
        res: { headers: { 'set-cookie': 'sid=2' } },
        user: { name: 'ann', password: 'hunter2' },
      },
      'headers',
    );
    const line = logs.find('headers')[0] as Record<string, Record<string, Record<string, unknown>>>;
    expect(line.req!.headers).toEqual({
      authorization: redactedText,
      cookie: redactedText,
      'x-api-key': redactedText,
      accept: '*/*',
    });
    expect(line.headers!['proxy-authorization']).toBe(redactedText);
    expect(line.res!.headers!['set-cookie']).toBe(redactedText);
    expect(line.user).toEqual({ name: 'ann', password: redactedText });
  });

  it("censors them capitalised too, and in an HTTP client's error (axios's err.config.headers)", async () => {
    const { runtime, logs } = await startRuntime();
    const failed = Object.assign(new Error('Request failed with status code 401'), {
      config: {
        url: 'https://api.example.com',
        headers: { Authorization: 'Bearer from-axios', Accept: '*/*' },
      },
      request: { _header: 'GET / HTTP/1.1\r\nAuthorization: Bearer raw-header\r\n\r\n', path: '/' },
    });
    runtime.logger.error(
      { err: failed, headers: { Authorization: 'Bearer top', 'X-API-Key': 'k1', Cookie: 'sid=3' } },
      'capitalised',
    );
    const text = JSON.stringify(logs.find('capitalised')[0]);
    for (const secret of ['Bearer from-axios', 'Bearer raw-header', 'Bearer top', '"k1"', 'sid=3'])
      expect(text).not.toContain(secret);
    expect(failed.request._header).toContain('Bearer raw-header'); // censored in the line only
    expect(text).toContain('"Accept":"*/*"');
  });

  it('reduces a logged request and response to what identifies them, their secrets censored (not the raw header list)', async () => {
    const { runtime, logs } = await startRuntime({
      app: (req, res) => {
        res.setHeader('set-cookie', 'sid=from-the-response');
        runtime.logger.info({ req, res }, 'logged whole');
        res.end();
      },
    });
    await get(`${baseUrl(runtime.server!)}/notes?token=in-the-query`, {
      headers: { authorization: 'Bearer from-the-request', cookie: 'c=from-the-request' },
    });
    const line = logs.find('logged whole')[0]!;
    const text = JSON.stringify(line);
    for (const secret of ['from-the-request', 'from-the-response', 'in-the-query'])
      expect(text).not.toContain(secret);
    expect(line.req).toEqual({
      method: 'GET',
      url: '/notes',
      host: expect.stringMatching(/:\d+$/),
      remoteAddress: '127.0.0.1',
      remotePort: expect.any(Number),
    });
    expect(line.res).toEqual({ statusCode: 200 });
    expect(text.length).toBeLessThan(1_000); // the socket's and parser's state once made it 15 KB
  });

  it("keeps an axios error's call and answer, not its ClientRequest and response objects, credentials censored", async () => {
    const { runtime, logs } = await startRuntime();
    const rawRequest = { _header: 'GET / HTTP/1.1\r\nAuthorization: Bearer raw-header\r\n\r\n' };
    const config = {
      method: 'get',
      url: 'https://api.example.com/x',
      headers: { Authorization: 'Bearer in-config' },
    };
    const failed = Object.assign(new Error('Request failed with status code 401'), {
      isAxiosError: true,
      code: 'ERR_BAD_REQUEST',
      config,
      request: rawRequest,
      // As axios builds it: the response carries the config and the request again.
      response: { status: 401, headers: { 'set-cookie': 'upstream=cookie' }, config, request: rawRequest },
    });
    runtime.logger.error({ err: failed }, 'axios failed');
    const line = logs.find('axios failed')[0] as Record<string, unknown> & { err: Record<string, unknown> };
    const text = JSON.stringify(line);
    for (const secret of ['raw-header', 'in-config', 'upstream=cookie']) expect(text).not.toContain(secret);
    expect(line.err).toMatchObject({
      code: 'ERR_BAD_REQUEST',
      config: { method: 'get', url: 'https://api.example.com/x' },
      response: { status: 401 },
    });
    expect(line.err).not.toHaveProperty('request');
    // Nested, as Promise.any over axios calls rejects: beyond the reach of redaction paths.
    runtime.logger.error({ err: new AggregateError([failed], 'all failed') }, 'any failed');
    const nested = JSON.stringify(logs.find('any failed')[0]);
    for (const secret of ['raw-header', 'in-config', 'upstream=cookie']) expect(nested).not.toContain(secret);
    expect(nested).toContain('ERR_BAD_REQUEST');
  });

  it('writes an error that cannot be serialised as its type, message and stack: a log call never throws', async () => {
    const { runtime, logs } = await startRuntime();
    const getter = new Error('has a getter that throws');
    Object.defineProperty(getter, 'detail', {
      enumerable: true,
      get() {
        throw new Error('no detail');
      },
    });
    const frozen = Object.freeze(new Error('frozen'));
    expect(() => runtime.logger.error({ err: getter }, 'getter')).not.toThrow();
    expect(() => runtime.logger.error({ error: frozen }, 'frozen under error')).not.toThrow();
    expect(logs.find('getter')[0]?.err).toMatchObject({
      type: 'Error',
      message: 'has a getter that throws',
      serializationError: 'no detail',
    });
    // `error`, the key Powertools users log under, is an error too (it was written as {}).
    expect(logs.find('frozen under error')[0]?.error).toMatchObject({ type: 'Error', message: 'frozen' });
  });

  it('masks a registered value in message, fields, arrays, errors, stacks and child bindings', async () => {
    const secret = 'p@ss"word\\42';
    redaction.addValue(secret);
    try {
      const { runtime, logs } = await startRuntime();
      const child = runtime.logger.child({ connection: `postgres://app:${secret}@db` });
      const error = new Error(`login failed for ${secret}`);
      child.error(
        { err: error, list: ['a', secret], nested: { deep: { value: secret } } },
        `using ${secret}`,
      );
      child.info({ body: JSON.stringify({ password: secret }) }, 'embedded json');
      const raw = logs.lines.map((l) => JSON.stringify(l)).join('\n');
      expect(raw).not.toContain('ss\\"word');
      expect(raw).not.toContain('ss\\\\\\"word');
      const line = logs.find(`using ${redactedText}`)[0] as Record<string, unknown> & {
        err: { message: string; stack: string };
      };
      expect(line.connection).toBe(`postgres://app:${redactedText}@db`);
      expect(line.err.message).toBe(`login failed for ${redactedText}`);
      expect(line.err.stack).toContain(`login failed for ${redactedText}`);
      expect(line.list).toEqual(['a', redactedText]);
      expect(line.nested).toEqual({ deep: { value: redactedText } });
      expect(logs.find('embedded json')[0]?.body).toBe(JSON.stringify({ password: redactedText }));
    } finally {
      redaction.removeValue(secret);
    }
  });

  it('applies to loggers built ahead of time with createLogger', () => {
    const secret = 'early-secret-value';
    redaction.addValue(secret);
    try {
      const logs = captureLogs();
      createLogger({ service: 's', destination: logs }).info(`x ${secret}`);
      expect(logs.lines[0]?.msg).toBe(`x ${redactedText}`);
    } finally {
      redaction.removeValue(secret);
    }
  });
});

describe('debug sampling', () => {
  it('logs debug lines of sampled requests only, and none outside requests', async () => {
    const { runtime, logs } = await startRuntime({
      logging: { debugSampleRate: 1, level: 'info', requests: false },
      app: (_req, res) => {
        runtime.logger.debug('inside');
        res.end();
      },
    });
    runtime.logger.debug('outside');
    await get(`${baseUrl(runtime.server!)}/`);
    expect(logs.find('inside')).toHaveLength(1);
    expect(logs.find('outside')).toHaveLength(0);
  });

  it('logs the debug lines of requests debugRequests picks; one that throws picks nothing, said once', async () => {
    const { runtime, logs } = await startRuntime({
      logging: {
        level: 'info',
        requests: false,
        debugRequests: (req) => {
          if (req.headers['x-debug'] === 'boom') throw new Error('predicate failed');
          return req.headers['x-debug'] === 'let-me-see';
        },
      },
      app: (req, res) => {
        runtime.logger.debug({ tag: req.headers['x-tag'] }, 'inside');
        res.end();
      },
    });
    const url = `${baseUrl(runtime.server!)}/`;
    await get(url, { headers: { 'x-debug': 'let-me-see', 'x-tag': 'picked' } });
    await get(url, { headers: { 'x-debug': 'nope', 'x-tag': 'not picked' } });
    await get(url, { headers: { 'x-debug': 'boom', 'x-tag': 'threw' } });
    await get(url, { headers: { 'x-debug': 'boom', 'x-tag': 'threw again' } });
    expect(logs.find('inside').map((line) => line.tag)).toEqual(['picked']);
    const told = logs.lines.filter((line) => String(line.msg).startsWith('logging.debugRequests failed'));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ level: 'warn', err: { message: 'predicate failed' } });
  });

  it("writes a picked request's request line under a level above it, and no other's", async () => {
    const { runtime, logs } = await startRuntime({
      logging: { level: 'warn', debugRequests: (req) => req.headers['x-debug'] === 'on' },
      app: (_req, res) => res.end(),
    });
    const url = `${baseUrl(runtime.server!)}/`;
    await get(url, { headers: { 'x-debug': 'on', 'x-request-id': 'picked' } });
    await get(url, { headers: { 'x-request-id': 'other' } });
    expect(logs.find('request completed').map((line) => line.requestId)).toEqual(['picked']);
  });

  it('logs no debug line with a rate of 0', async () => {
    const { runtime, logs } = await startRuntime({
      logging: { level: 'info', requests: false },
      app: (_req, res) => {
        runtime.logger.debug('inside');
        res.end();
      },
    });
    await get(`${baseUrl(runtime.server!)}/`);
    expect(logs.find('inside')).toHaveLength(0);
  });
});

describe('process warnings', () => {
  it('become JSON warn lines while the runtime runs, and go back to Node afterwards', async () => {
    const before = process.listeners('warning');
    const { runtime, logs } = await startRuntime();
    process.emitWarning('something is deprecated', { type: 'DeprecationWarning', code: 'DEP_TEST' });
    await expect.poll(() => logs.find('something is deprecated').length).toBe(1);
    expect(logs.find('something is deprecated')[0]).toMatchObject({
      level: 'warn',
      warning: { name: 'DeprecationWarning', code: 'DEP_TEST' },
    });
    await runtime.shutdown();
    expect(process.listeners('warning')).toEqual(before);
  });

  it.each([
    ['the order they started', 0],
    ['the reverse order', 1],
  ])('of two runtimes stopped in %s: each removes only its own listener', async (_order, first) => {
    const before = process.listeners('warning');
    const started = [await startRuntime(), await startRuntime()];
    const [stopped, running] = first === 0 ? started : [...started].reverse();

    await stopped!.runtime.shutdown();
    process.emitWarning('while one runs', { code: 'DEP_ONE' });
    await expect.poll(() => running!.logs.find('while one runs').length).toBe(1);
    const stillInstalled = process.listeners('warning');
    await running!.runtime.shutdown();

    expect(stopped!.logs.find('while one runs')).toHaveLength(0);
    expect(stillInstalled).toHaveLength(1);
    expect(before).not.toContain(stillInstalled[0]);
    expect(process.listeners('warning')).toEqual(before);
  });
});

describe('a logger of your own', () => {
  it('is used as it is', async () => {
    const logs = captureLogs();
    const own = pino({ base: { mine: true } }, logs);
    const { runtime } = await startRuntime({ logging: { logger: own } });
    expect(runtime.logger).toBe(own);
    runtime.logger.info('from mine');
    expect(logs.find('from mine')[0]).toMatchObject({ mine: true });
  });

  it("says once that a logger createLogger did not build writes no picked request's debug lines", async () => {
    const logs = captureLogs();
    let asked = 0;
    const sampled: unknown[] = [];
    const { runtime } = await startRuntime({
      logging: {
        logger: pino({ level: 'info' }, logs),
        debugRequests: () => {
          asked++;
          return true;
        },
      },
      app: (_req, res) => {
        sampled.push(getRequestContext()?.debugSampled);
        res.end();
      },
    });
    await get(`${baseUrl(runtime.server!)}/`);
    const told = logs.lines.filter((line) => String(line.msg).startsWith('logging.debugSampleRate and'));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ level: 40 }); // pino's own format: the logger is used as it is
    expect(asked).toBe(1); // still picked, for an app that reads debugSampled itself
    expect(sampled).toEqual([true]);
  });

  it('lends the config its debugRequests when createLogger built it', async () => {
    const logs = captureLogs();
    const own = createLogger({
      service: 'mine',
      destination: logs,
      debugRequests: (req) => req.headers['x-debug'] === 'on',
    });
    const { runtime } = await startRuntime({
      logging: { logger: own, requests: false },
      app: (req, res) => {
        runtime.logger.debug({ tag: req.headers['x-tag'] }, 'inside');
        res.end();
      },
    });
    const url = `${baseUrl(runtime.server!)}/`;
    await get(url, { headers: { 'x-debug': 'on', 'x-tag': 'picked' } });
    await get(url, { headers: { 'x-tag': 'not picked' } });
    expect(logs.find('inside').map((line) => line.tag)).toEqual(['picked']);
  });

  it('lends the config its settings when createLogger built it: its debugSampleRate picks the requests', async () => {
    const logs = captureLogs();
    const own = createLogger({ service: 'mine', level: 'warn', debugSampleRate: 1, destination: logs });
    const { runtime } = await startRuntime({
      logging: { logger: own, requests: false },
      app: (_req, res) => {
        runtime.logger.debug('inside a picked request');
        res.end();
      },
    });
    expect(runtime.logger).toBe(own);
    expect(runtime.config.logging).toMatchObject({ level: 'warn', debugSampleRate: 1 });
    await get(`${baseUrl(runtime.server!)}/`);
    expect(logs.find('inside a picked request')).toHaveLength(1);
  });
});
