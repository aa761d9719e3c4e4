// The same small JSON handler in every variant (CommonJS, so the auto-instrumented app needs no
// ESM loader hook: `--require` is all the OpenTelemetry docs ask for).
const body = JSON.stringify({ hello: 'world' });
exports.handler = function handler(_req, res) {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};
