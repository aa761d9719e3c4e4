import { type ChildApp, freePort, startChild } from './child.js';

/** A fixture app running in a child process, listening. */
export interface RunningApp extends ChildApp {
  readonly port: number;
  readonly url: string;
  /** Sends `signal` and records when, so exit timing can be measured from it. */
  signal(signal: NodeJS.Signals): number;
  /** Resolves with the exit code and the milliseconds from `since` (default: the last signal). */
  exit(since?: number): Promise<{ code: number | null; elapsedMs: number }>;
}

const running = new Set<RunningApp>();

/**
 * Starts `script` with `env` (plus a free PORT), Node's options `execArgv` and in `cwd`, and waits
 * until it listens.
 */
export async function startApp(
  script: string,
  env: Record<string, string> = {},
  execArgv: readonly string[] = [],
  cwd?: string,
): Promise<RunningApp> {
  const port = await freePort();
  const child = startChild(script, { PORT: String(port), ...env }, [], {
    execArgv,
    ...(cwd === undefined ? {} : { cwd }),
  });
  let lastSignalAt = 0;
  const app: RunningApp = {
    ...child,
    port,
    url: `http://127.0.0.1:${port}`,
    signal(signal) {
      lastSignalAt = performance.now();
      child.child.kill(signal);
      return lastSignalAt;
    },
    async exit(since) {
      const { code, at } = await child.exited;
      return { code, elapsedMs: at - (since ?? lastSignalAt) };
    },
  };
  running.add(app);
  void child.exited.then(() => running.delete(app));
  await child.waitForLine((l) => l.msg === `listening on port ${port}`);
  return app;
}

/** Kills every fixture app still running (for afterEach). */
export function killApps(): void {
  for (const app of running) app.child.kill('SIGKILL');
  running.clear();
}
