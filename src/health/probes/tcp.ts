import { connect } from 'node:net';
import type { HealthCheck } from '../types.js';

/** Options of {@link tcpProbe}. */
export interface TcpProbeOptions {
  host: string;
  port: number;
}

/** Passes when a TCP connection to `host:port` opens; reports the connect time in ms. */
export function tcpProbe(options: TcpProbeOptions): HealthCheck {
  return (signal) =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const socket = connect({ host: options.host, port: options.port });
      const onAbort = () =>
        socket.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve({
          status: 'pass',
          observedValue: Math.round(performance.now() - started),
          observedUnit: 'ms',
        });
      });
      socket.once('error', (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(new Error(`cannot connect to ${options.host}:${options.port}: ${error.message}`));
      });
    });
}
