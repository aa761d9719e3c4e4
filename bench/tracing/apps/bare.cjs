// Plain Node.js: the handler on http.createServer. With NODE_OPTIONS="--require ./otel-sdk.cjs", the
// same app under the OpenTelemetry auto-instrumentation.
const { createServer } = require('node:http');
const { handler } = require('./handler.cjs');

createServer(handler).listen(Number(process.env.PORT));
