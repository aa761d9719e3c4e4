import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { logRejectedRequests } from '../../../src/http/rejected-requests.js';
import { createLogger } from '../../../src/logging/logger.js';
import { captureLogs } from '../../support/log-capture.js';

/** A socket Node's parser gave up on, as far as the listener reads it. */
function closedSocket() {
  return { writable: false, remoteAddress: '::ffff:127.0.0.1', destroy: () => undefined };
}

function refusal(code: string): Error & { code: string; bytesParsed: number } {
  return Object.assign(new Error(`Parse Error: ${code}`), { code, bytesParsed: 7 });
}

describe('logRejectedRequests', () => {
  it('writes ten lines a window; the first line of the next counts those left out', async () => {
    const server = new EventEmitter() as unknown as Server;
    const logs = captureLogs();
    logRejectedRequests(server, createLogger({ service: 'svc', pretty: false, destination: logs }), 50);
    for (let i = 0; i < 13; i++) server.emit('clientError', refusal('HPE_INVALID_METHOD'), closedSocket());
    await delay(60);
    server.emit('clientError', refusal('HPE_HEADER_OVERFLOW'), closedSocket());

    expect(logs.lines).toHaveLength(11);
    expect(logs.lines[0]).not.toHaveProperty('notWritten');
    expect(logs.lines[10]).toMatchObject({ statusCode: 431, code: 'HPE_HEADER_OVERFLOW', notWritten: 3 });
  });

  it('writes no line for a client that reset its connection or hung up halfway through its request', () => {
    const server = new EventEmitter() as unknown as Server;
    const logs = captureLogs();
    logRejectedRequests(server, createLogger({ service: 'svc', pretty: false, destination: logs }));
    server.emit('clientError', refusal('ECONNRESET'), closedSocket());
    server.emit('clientError', refusal('HPE_INVALID_EOF_STATE'), closedSocket());
    expect(logs.lines).toEqual([]);
  });
});
