// Baseline: the app with no logging at all.
import { createServer } from 'node:http';
import { handler } from '../../lib/handler.mjs';

createServer(handler).listen(Number(process.env.PORT));
