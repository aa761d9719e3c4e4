// stoppable as its README shows it.
import { createServer } from 'node:http';
import stoppable from 'stoppable';
import { handler, listening, port } from './common.mjs';

const server = stoppable(createServer(handler), 5_000).listen(port, listening);
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => server.stop(() => process.exit(0)));
