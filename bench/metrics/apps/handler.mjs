// The same small JSON answer in every variant.
const body = JSON.stringify({ hello: 'world' });
export function handler(_req, res) {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
