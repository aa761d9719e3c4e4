// apprunner-kit in front of the handler; REQUESTS=0 turns the request line off. DEBUG_LINES=n makes
// the handler write n debug lines per request (dropped at the default level, written with
// LOG_LEVEL=debug); BUFFER=1 holds them (logging.buffer) and drops them when the request ends well.
import { bootstrapAppRunner } from 'apprunner-kit';
import { handler } from '../../lib/handler.mjs';

const debugLines = Number(process.env.DEBUG_LINES ?? 0);
const runtime = await bootstrapAppRunner({
  app:
    debugLines === 0
      ? handler
      : (req, res) => {
          for (let i = 0; i < debugLines; i++)
            runtime.logger.debug({ step: i, path: req.url }, 'loading the note from the database');
          handler(req, res);
        },
  logging: { requests: process.env.REQUESTS !== '0', buffer: process.env.BUFFER === '1' },
});
