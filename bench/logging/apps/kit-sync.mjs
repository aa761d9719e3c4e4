// apprunner-kit with pino's synchronous stdout destination instead of the kit's own (for comparison).
import { bootstrapAppRunner } from 'apprunner-kit';
import { pino } from 'pino';
import { handler } from '../../lib/handler.mjs';

await bootstrapAppRunner({
  app: handler,
  logging: { destination: pino.destination({ dest: 1, sync: true }) },
});
