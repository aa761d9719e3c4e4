import { readFileSync } from 'node:fs';

const fixtures = new URL('../fixtures/tls/', import.meta.url);

/** The test certificate (localhost) and its key, for HTTPS and HTTP/2 servers; `cert` is the CA too. */
export const testTls = {
  key: readFileSync(new URL('key.pem', fixtures)),
  cert: readFileSync(new URL('cert.pem', fixtures)),
};
