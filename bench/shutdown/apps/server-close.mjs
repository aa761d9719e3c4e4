// Baseline: Node's own server.close() on SIGTERM (Node >= 19 closes idle keep-alive sockets at once).
import { createServer } from 'node:http';
import { handler, listening, port } from './common.mjs';

const server = createServer(handler).listen(port, listening);
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
