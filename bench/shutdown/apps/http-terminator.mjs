// http-terminator as its README shows it.
import { createServer } from 'node:http';
import { createHttpTerminator } from 'http-terminator';
import { handler, listening, port } from './common.mjs';

const server = createServer(handler).listen(port, listening);
server.keepAliveTimeout = 65_000;
const terminator = createHttpTerminator({ server, gracefulTerminationTimeout: 5_000 });
process.on('SIGTERM', async () => {
  await terminator.terminate();
  process.exit(0);
});
