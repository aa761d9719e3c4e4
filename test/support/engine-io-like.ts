// What Socket.IO 4's engine.io does to the HTTP server it is attached to, in plain Node (the kit's
// tests do not depend on socket.io): its attach takes the server's 'request' listeners off and
// installs one of its own, which answers /socket.io/ itself (a long poll is held until the next ping,
// 25 s by default) and passes any other request to the listeners it took; `io.close()` ends the
// held polls, then calls `server.close()`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** A server with engine.io's listener in front: `close()` does what `io.close()` does. */
export interface EngineIoLike {
  /** `io.engine.close()`: ends the held polls (their clients reconnect, to another instance). */
  engineClose(): void;
  /** `io.close()`: ends the held polls, then, a turn later, `server.close()` from a socket.io file. */
  close(): Promise<void>;
}

/** engine.io's `close`, from a file under a `socket.io/` folder, as in `node_modules/socket.io/dist/`. */
async function socketIoClose(): Promise<(server: Server) => Promise<void>> {
  const root = mkdtempSync(join(tmpdir(), 'ark-sio-'));
  const folder = join(root, 'socket.io', 'dist');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, 'index.mjs');
  writeFileSync(file, 'export async function close(server) {\n  await null;\n  server.close();\n}\n');
  try {
    const module = (await import(pathToFileURL(file).href)) as { close: (server: Server) => Promise<void> };
    return module.close;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Attaches engine.io's way to `server`, holding each long poll for `holdMs`. */
export async function attachLikeEngineIo(server: Server, holdMs = 25_000): Promise<EngineIoLike> {
  const close = await socketIoClose();
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const held = new Set<ServerResponse>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/socket.io/')) {
      held.add(res);
      const ping = setTimeout(() => res.end('2'), holdMs);
      res.once('close', () => {
        clearTimeout(ping);
        held.delete(res);
      });
      return;
    }
    for (const listener of listeners) listener.call(server, req, res);
  });
  // A noop packet: the poll ends.
  const engineClose = (): void => {
    for (const res of held) res.end('6');
  };
  return {
    engineClose,
    async close() {
      engineClose();
      await close(server);
    },
  };
}
