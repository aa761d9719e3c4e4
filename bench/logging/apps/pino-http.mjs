// The usual stack: pino-http in front of the handler, pino to stdout as pino-http's README shows.
import { createServer } from 'node:http';
import { pinoHttp } from 'pino-http';
import { handler } from '../../lib/handler.mjs';

const log = pinoHttp();
createServer((req, res) => {
  log(req, res);
  handler(req, res);
}).listen(Number(process.env.PORT));
