// A plain Node.js app served the way App Runner runs it: `PORT` from the environment, JSON logs on
// stdout, /healthz and /readyz on the app's own port, a graceful drain on SIGTERM.
//
//   npm run example            # then: curl localhost:8080/hello ; curl localhost:8080/readyz
//   PORT=3000 LOG_LEVEL=debug npm run example
import { bootstrapAppRunner, getRequestContext } from 'apprunner-kit';

/** @type {import('apprunner-kit').NodeRequestListener} */
function app(req, res) {
  if (req.method === 'GET' && req.url?.startsWith('/hello')) {
    const body = JSON.stringify({ hello: 'world', requestId: getRequestContext()?.requestId });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":"not found"}');
}

const runtime = await bootstrapAppRunner({ app, service: 'node-http-example' });

// Anything that must finish before the process exits: close pools, flush queues.
runtime.onShutdown('example cleanup', async () => {
  runtime.logger.info('example cleanup done');
});
