// apprunner-kit in front of Express with a route pattern (/items/:id), so that the route lookup is
// measured too; METRICS=1 turns metrics on, flushed every second. Request lines off in both.

import { bootstrapAppRunner } from 'apprunner-kit';
import express from 'express';
import { handler } from '../../lib/handler.mjs';

const app = express();
app.get('/items/:id', handler);
await bootstrapAppRunner({
  app,
  logging: { requests: false },
  metrics: process.env.METRICS === '1' ? { flushIntervalMs: 1_000 } : undefined,
});
