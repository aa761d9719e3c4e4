// HTTP/1.1 spoken over raw TCP sockets: what a test needs to write on a kept-alive connection of its
// choosing and see exactly when the server closes it.
import { connect, type Socket } from 'node:net';

/** Opens a raw TCP connection to 127.0.0.1:port. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Reads from `socket` until one whole HTTP response (with Content-Length) has arrived. */
export function readResponse(socket: Socket): Promise<{ head: string; body: string }> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) {
      reject(new Error('socket closed before a response'));
      return;
    }
    let data = '';
    const onData = (chunk: Buffer) => {
      data += chunk.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = data.slice(0, end);
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (data.length >= end + 4 + length) {
        socket.off('data', onData);
        resolve({ head, body: data.slice(end + 4, end + 4 + length) });
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () =>
      reject(new Error(`socket closed before a whole response; got ${JSON.stringify(data)}`)),
    );
  });
}

export const closed = (socket: Socket) =>
  new Promise<void>((resolve) => socket.once('close', () => resolve()));
export const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
