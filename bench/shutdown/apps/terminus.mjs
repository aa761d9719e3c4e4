// @godaddy/terminus as its README shows it.
import { createServer } from 'node:http';
import { createTerminus } from '@godaddy/terminus';
import { handler, listening, port } from './common.mjs';

const server = createServer(handler);
server.keepAliveTimeout = 65_000;
createTerminus(server, { signals: ['SIGTERM'], timeout: 5_000, onSignal: async () => {} });
server.listen(port, listening);
