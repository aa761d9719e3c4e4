import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { describeIncomingRequest } from '../../../src/tracing/incoming-request.js';
import { requestUrl } from '../../../src/tracing/xray/attributes.js';

function request(
  url: string,
  headers: Record<string, string>,
  remoteAddress = '::ffff:10.0.0.9',
): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: remoteAddress });
  const req = new IncomingMessage(socket);
  req.method = 'POST';
  req.url = url;
  req.httpVersion = '1.1';
  req.headers = headers;
  req.rawHeaders = Object.entries(headers).flat();
  return req;
}

describe('describeIncomingRequest', () => {
  it('reads what a proxy in front says, and leaves the query out', () => {
    expect(
      describeIncomingRequest(
        request('/notes/7?token=secret', {
          host: 'notes.example.com',
          'x-forwarded-proto': 'https',
          'x-forwarded-for': '198.51.100.1, 203.0.113.9', // the caller's, then the proxy's
          'user-agent': 'curl/8.5.0',
        }),
      ),
    ).toEqual({
      method: 'POST',
      path: '/notes/7',
      scheme: 'https',
      host: 'notes.example.com',
      port: 443,
      clientAddress: '203.0.113.9',
      peerAddress: '10.0.0.9',
      userAgent: 'curl/8.5.0',
      protocolVersion: '1.1',
    });
  });

  it.each([
    ['127.0.0.1:8080', '127.0.0.1', 8080],
    ['[::1]:8080', '[::1]', 8080],
    ['[::1]', '[::1]', 80],
    ['example.com:99999', 'example.com:99999', 80],
    ['example.com:', 'example.com:', 80],
  ])('splits the Host %j', (host, name, port) => {
    expect(describeIncomingRequest(request('/', { host }))).toMatchObject({
      host: name,
      port,
      scheme: 'http',
    });
  });

  it('copes with nothing: no Host, no forwarding headers, an odd proto', () => {
    expect(
      describeIncomingRequest(request('/', { 'x-forwarded-proto': 'gopher' }, '192.0.2.1')),
    ).toMatchObject({
      host: undefined,
      port: undefined,
      scheme: 'http',
      clientAddress: '192.0.2.1',
      userAgent: undefined,
    });
  });

  it('reads the path of an absolute-form target (GET http://host/path), as frameworks route it', () => {
    const info = describeIncomingRequest(
      request('http://localhost/notes/7?token=secret', { host: 'localhost' }),
    );
    expect(info).toMatchObject({ path: '/notes/7', host: 'localhost' });
    expect(requestUrl(info)).toBe('http://localhost/notes/7'); // X-Ray's segment URL
    expect(describeIncomingRequest(request('https://localhost', { host: 'localhost' })).path).toBe('/');
  });

  it('caps what it copies from headers', () => {
    const info = describeIncomingRequest(request(`/${'a'.repeat(5000)}`, { 'user-agent': 'u'.repeat(5000) }));
    expect(info.path).toHaveLength(1024);
    expect(info.userAgent).toHaveLength(1024);
  });
});
