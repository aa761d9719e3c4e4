import type { AppRunnerRuntime, BootstrapOptions } from '../../src/index.js';
import { bootstrapAppRunner } from '../../src/index.js';
import { captureLogs, type LogCapture } from './log-capture.js';

/** A runtime bootstrapped in-process for a test: port 0, no signal handlers, no process.exit. */
export interface TestRuntime {
  readonly runtime: AppRunnerRuntime;
  readonly logs: LogCapture;
}

const started: AppRunnerRuntime[] = [];

export async function startRuntime(options: BootstrapOptions = {}): Promise<TestRuntime> {
  const logs = captureLogs();
  const runtime = await bootstrapAppRunner({
    port: 0,
    env: {},
    ...options,
    logging: { destination: logs, ...options.logging },
    shutdown: { signals: [], exit: false, handleProcessErrors: false, ...options.shutdown },
  });
  started.push(runtime);
  return { runtime, logs };
}

/** Shuts down every runtime a test started (for afterEach). */
export async function stopRuntimes(): Promise<void> {
  await Promise.all(started.splice(0).map((runtime) => runtime.shutdown('test ended')));
}
