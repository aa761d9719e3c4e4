// In a file of its own: no logger of this process holds lines until the test builds one.
import type { Logger } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { createLogger, flushRequestLogs } from '../../../src/index.js';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

it('writes the held lines of a logger built after the kit started, before the request line', async () => {
  let appLogger: Logger | undefined;
  const flushed: boolean[] = [];
  const { runtime, logs } = await startRuntime({
    app: (_req, res) => {
      flushed.push(flushRequestLogs());
      appLogger?.debug('from a logger built later');
      res.statusCode = 502;
      res.end();
    },
  });
  const url = baseUrl(runtime.server!);
  await get(`${url}/`, { headers: { 'x-request-id': 'before-1' } });
  appLogger = createLogger({ service: 'later', destination: logs, buffer: true });
  await get(`${url}/`, { headers: { 'x-request-id': 'later-1' } });
  await expect.poll(() => logs.find('request failed').length).toBe(2);
  expect(flushed).toEqual([false, true]);
  expect(logs.lines.filter((l) => l.requestId === 'later-1').map((l) => l.msg)).toEqual([
    'from a logger built later',
    'request failed',
  ]);
});
