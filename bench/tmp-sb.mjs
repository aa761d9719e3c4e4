import { pino } from 'pino';
import { createLogger } from '../dist/index.js';

const mode = process.env.MODE;
const logger =
  mode === 'kit'
    ? createLogger({ service: 's' })
    : mode === 'kit-dest'
      ? createLogger({ service: 's', destination: pino.destination({ dest: 1, sync: false }) })
      : pino(
          { timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (l) => ({ level: l }) } },
          pino.destination({ dest: 1, sync: false }),
        );
for (let n = 0; n < 20000; n++) logger.info({ n, padding: 'x'.repeat(100) }, 'line');
process.stderr.write('flooded\n');
setTimeout(() => {}, 2000);
