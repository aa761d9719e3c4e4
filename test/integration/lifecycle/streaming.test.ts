import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { baseUrl } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

describe('a streaming response (server-sent events) at shutdown', () => {
  it('is awaited while the app streams, and ended by the app on runtime.signal with a last event', async () => {
    let signal: AbortSignal | undefined;
    const events = (req: IncomingMessage, res: ServerResponse): void => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      let n = 0;
      const timer = setInterval(() => res.write(`data: tick ${++n}\n\n`), 50);
      const end = () => {
        clearInterval(timer);
        res.end('event: bye\ndata: server shutting down\n\n');
      };
      if (signal?.aborted) end();
      else signal?.addEventListener('abort', end, { once: true });
      req.on('close', () => clearInterval(timer));
    };
    const { runtime } = await startRuntime({ app: events, shutdown: { timeoutMs: 5_000, idleGraceMs: 200 } });
    signal = runtime.signal;
    const response = await fetch(`${baseUrl(runtime.server!)}/events`);
    const body = response.text();
    await new Promise((resolve) => setTimeout(resolve, 200));

    const result = await runtime.shutdown('test');

    const text = await body;
    expect(text).toMatch(/^data: tick 1\n\n/);
    expect(text.endsWith('event: bye\ndata: server shutting down\n\n')).toBe(true);
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.durationMs).toBeLessThan(1_000);
  });
});
