// apprunner-kit: the one line; the kit owns the server and the SIGTERM handling.
import { bootstrapAppRunner } from 'apprunner-kit';
import { handler } from './common.mjs';

await bootstrapAppRunner({ app: handler, logging: { requests: false } });
