// lightship as its README shows it (its probe server on a port of its own; no Kubernetes detection).
import { createServer } from 'node:http';
import { createLightship } from 'lightship';
import { handler, listening, port } from './common.mjs';

const lightship = await createLightship({
  detectKubernetes: false,
  port: 0,
  shutdownDelay: 0,
});
const server = createServer(handler);
server.keepAliveTimeout = 65_000;
lightship.registerShutdownHandler(() => new Promise((resolve) => server.close(resolve)));
server.listen(port, () => {
  lightship.signalReady();
  listening();
});
