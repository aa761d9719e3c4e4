// close-with-grace as its README shows it.
import { createServer } from 'node:http';
import closeWithGrace from 'close-with-grace';
import { handler, listening, port } from './common.mjs';

const server = createServer(handler).listen(port, listening);
server.keepAliveTimeout = 65_000;
closeWithGrace({ delay: 5_000 }, async () => {
  await new Promise((resolve) => server.close(resolve));
});
