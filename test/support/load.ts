import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** The outcome of one request sent by {@link keepAliveLoad}. */
export interface RequestOutcome {
  /** True when the request went out on a socket that had already carried a request. */
  readonly reused: boolean;
  readonly ok: boolean;
  readonly status?: number;
  /** The response asked for the connection to close. */
  readonly connectionClose?: boolean;
  /** The error code (`ECONNRESET`, `ECONNREFUSED`, …) when the request failed. */
  readonly error?: string;
}

/** Outcomes of a load run, with the counts the shutdown tests assert on. */
export interface LoadReport {
  readonly outcomes: readonly RequestOutcome[];
  /** Requests that failed although sent on an already-open connection: must be 0. */
  readonly failedOnOpenConnections: number;
  readonly succeeded: number;
  /** Failures on new connections (refused once the server stopped accepting). */
  readonly failedNewConnections: number;
}

/** Options of {@link keepAliveLoad}. */
export interface LoadOptions {
  /** Concurrent keep-alive connections, one request in flight on each. */
  readonly connections: number;
  /** Stops sending once this resolves. */
  readonly until: Promise<unknown>;
  /** Hard bound on the whole run. */
  readonly maxMs: number;
  /** Hard bound on the number of requests. */
  readonly maxRequests?: number;
  /** Path to request. */
  readonly path?: string;
  /** Speak HTTPS, trusting this certificate (issued for `localhost`). */
  readonly tlsCa?: Buffer;
}

function send(agent: Agent, port: number, path: string, tlsCa: Buffer | undefined): Promise<RequestOutcome> {
  return new Promise((resolve) => {
    const target = { host: '127.0.0.1', port, path, agent };
    const onResponse = (res: import('node:http').IncomingMessage) => {
      res.resume();
      res.on('end', () =>
        resolve({
          reused: req.reusedSocket,
          ok: res.statusCode === 200,
          status: res.statusCode ?? 0,
          connectionClose: res.headers.connection === 'close',
        }),
      );
      res.on('error', (error: NodeJS.ErrnoException) =>
        resolve({ reused: req.reusedSocket, ok: false, error: error.code ?? error.message }),
      );
    };
    const req =
      tlsCa === undefined
        ? request(target, onResponse)
        : httpsRequest({ ...target, ca: tlsCa, servername: 'localhost' }, onResponse);
    req.setTimeout(10_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ reused: req.reusedSocket, ok: false, error: error.code ?? error.message }),
    );
    req.end();
  });
}

/**
 * Keeps `connections` keep-alive connections busy with back-to-back requests until `until` resolves
 * (or the bounds are hit), recording each request's outcome and whether it was sent on an
 * already-open connection. Each connection has its own agent with one socket, as a proxy's
 * upstream connection pool would.
 */
export async function keepAliveLoad(port: number, options: LoadOptions): Promise<LoadReport> {
  const outcomes: RequestOutcome[] = [];
  const deadline = performance.now() + options.maxMs;
  const maxRequests = options.maxRequests ?? 1_000_000;
  let stop = false;
  void options.until.then(() => {
    stop = true;
  });
  const worker = async (): Promise<void> => {
    const agent =
      options.tlsCa === undefined
        ? new Agent({ keepAlive: true, maxSockets: 1 })
        : new HttpsAgent({ keepAlive: true, maxSockets: 1 });
    try {
      while (!stop && performance.now() < deadline && outcomes.length < maxRequests) {
        const outcome = await send(agent, port, options.path ?? '/fast', options.tlsCa);
        outcomes.push(outcome);
        if (outcome.error === 'ECONNREFUSED') break; // the server no longer accepts: this client is done
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  return {
    outcomes,
    failedOnOpenConnections: outcomes.filter((o) => o.reused && !o.ok).length,
    succeeded: outcomes.filter((o) => o.ok).length,
    failedNewConnections: outcomes.filter((o) => !o.reused && !o.ok).length,
  };
}
