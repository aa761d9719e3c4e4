// apprunner-kit in front of the handler; REQUESTS=0 turns the request line off.
import { bootstrapAppRunner } from 'apprunner-kit';
import { handler } from '../../lib/handler.mjs';

await bootstrapAppRunner({ app: handler, logging: { requests: process.env.REQUESTS !== '0' } });
