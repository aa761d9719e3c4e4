import { request as httpRequest } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { flushRequestLogs } from '../../../src/index.js';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

describe('logging.buffer', () => {
  it('writes a failed request debug lines before its request line, and drops those of a request that went well', async () => {
    const { runtime, logs } = await startRuntime({
      logging: { buffer: true },
      app: async (req, res) => {
        runtime.logger.debug({ path: req.url }, 'detail');
        await delay(1);
        runtime.logger.child({ module: 'repo' }).debug('nested detail');
        res.statusCode = req.url === '/fail' ? 500 : 200;
        res.end();
      },
    });
    const url = baseUrl(runtime.server!);
    await get(`${url}/ok`, { headers: { 'x-request-id': 'ok-1' } });
    await get(`${url}/fail`, { headers: { 'x-request-id': 'fail-1' } });
    await expect.poll(() => logs.find('request failed').length).toBe(1);
    const ofRequest = (id: string) => logs.lines.filter((l) => l.requestId === id).map((l) => l.msg);
    expect(ofRequest('ok-1')).toEqual(['request completed']);
    expect(ofRequest('fail-1')).toEqual(['detail', 'nested detail', 'request failed']);
    expect(logs.find('nested detail')[0]).toMatchObject({ level: 'debug', module: 'repo' });
  });

  it('writes the held lines of a request whose client went away, before "request aborted"', async () => {
    const { runtime, logs } = await startRuntime({
      logging: { buffer: true },
      app: (_req, res) => {
        runtime.logger.debug('waiting for the database');
        setTimeout(() => res.end(), 300);
      },
    });
    const req = httpRequest(`${baseUrl(runtime.server!)}/`, { headers: { 'x-request-id': 'gone-1' } });
    req.on('error', () => {});
    req.end();
    await delay(50);
    req.destroy();
    await expect.poll(() => logs.find('request aborted').length).toBe(1);
    expect(logs.lines.filter((l) => l.requestId === 'gone-1').map((l) => l.msg)).toEqual([
      'waiting for the database',
      'request aborted',
    ]);
  });

  it('holds nothing once the response ended: late lines follow the level', async () => {
    const { runtime, logs } = await startRuntime({
      logging: { buffer: true },
      app: (_req, res) => {
        res.statusCode = 500;
        res.end();
        res.on('close', () =>
          setTimeout(() => {
            runtime.logger.debug('late debug');
            runtime.logger.error('late error'); // would flush 'late debug', were it held
          }, 10),
        );
      },
    });
    await get(`${baseUrl(runtime.server!)}/`);
    await expect.poll(() => logs.find('late error').length).toBe(1);
    expect(logs.find('late error')[0]?.requestId).toEqual(expect.any(String)); // within the request
    expect(logs.find('late debug')).toHaveLength(0);
  });

  it('keeps the configured level for the request line, though the logger runs at trace', async () => {
    const { runtime, logs } = await startRuntime({
      logging: { buffer: true, requestLevels: { success: 'debug' } },
      app: (req, res) => {
        res.statusCode = req.url === '/fail' ? 500 : 200;
        res.end();
      },
    });
    const url = baseUrl(runtime.server!);
    await get(`${url}/ok`);
    await get(`${url}/fail`);
    await expect.poll(() => logs.find('request failed').length).toBe(1);
    expect(logs.find('request completed')).toHaveLength(0);
  });

  it('lets the app flush a request it answered with a 4xx', async () => {
    const { runtime, logs } = await startRuntime({
      logging: { buffer: true },
      app: (req, res) => {
        runtime.logger.debug({ path: req.url }, 'conflict detail');
        if (req.url === '/conflict') flushRequestLogs();
        res.statusCode = 409;
        res.end();
      },
    });
    const url = baseUrl(runtime.server!);
    await get(`${url}/conflict`);
    await get(`${url}/other`);
    await expect.poll(() => logs.find('request completed').length).toBe(2);
    expect(logs.find('conflict detail').map((l) => l.path)).toEqual(['/conflict']);
  });
});
