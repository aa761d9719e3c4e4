// apprunner-kit in front of the Express 5 app of express.cjs (without aws-xray-sdk-express), request
// line off; with AWS_XRAY_DAEMON_ADDRESS set, tracing through the X-Ray SDK, every request sampled.
import { createRequire } from 'node:module';
import { bootstrapAppRunner } from 'apprunner-kit';

const require = createRequire(import.meta.url);
const express = require('express');
const { handler } = require('./handler.cjs');

const app = express();
app.get('/', handler);
const xray = process.env.AWS_XRAY_DAEMON_ADDRESS !== undefined;
await bootstrapAppRunner({
  app,
  service: 'bench',
  logging: { requests: false },
  tracing: xray
    ? {
        mode: 'xray',
        xray: { sampling: 'local', samplingRules: { version: 2, default: { fixed_target: 0, rate: 1 } } },
      }
    : { mode: 'off' },
});
