// The same small JSON handler in every variant of the logging and metrics benches.
const body = JSON.stringify({ hello: 'world' });
export function handler(_req, res) {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
