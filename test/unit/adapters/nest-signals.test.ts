import { afterEach, describe, expect, it } from 'vitest';
import { takeShutdownHooks } from '../../../src/adapters/nest-signals.js';
import { createLogger } from '../../../src/index.js';
import { captureLogs } from '../../support/log-capture.js';

/**
 * An application shaped as Nest 11's: one listener on every signal of an array, and an
 * enableShutdownHooks that skips the signals the array has.
 */
class Nest11App {
  activeShutdownSignals: string[] = [];
  shutdownCleanupRef: ((signal: string) => void) | undefined;
  enableShutdownHooks(signals: string[] = []) {
    const added = signals.filter((signal) => !this.activeShutdownSignals.includes(signal));
    this.shutdownCleanupRef ??= function nestCleanup() {};
    for (const signal of added) {
      process.on(signal, this.shutdownCleanupRef);
      this.activeShutdownSignals.push(signal);
    }
    return this;
  }
}

const signals = ['SIGHUP', 'SIGTERM', 'SIGUSR2', 'SIGWINCH'];
const apps: Nest11App[] = [];

afterEach(() => {
  for (const app of apps.splice(0)) {
    for (const signal of signals) process.removeListener(signal, app.shutdownCleanupRef!);
  }
});

const nestListens = (app: Nest11App, signal: string) =>
  process.listeners(signal as NodeJS.Signals).includes(app.shutdownCleanupRef as never);

describe('takeShutdownHooks on a Nest 11 application', () => {
  it("takes its listeners off the kit's signals only; a later call adds the others, not the kit's", () => {
    const app = new Nest11App().enableShutdownHooks(['SIGHUP', 'SIGTERM']);
    apps.push(app);
    const logs = captureLogs();

    const putBack = takeShutdownHooks(app, ['SIGTERM'], createLogger({ destination: logs }));
    expect([nestListens(app, 'SIGTERM'), nestListens(app, 'SIGHUP')]).toEqual([false, true]);
    expect(app.activeShutdownSignals).toEqual(['SIGHUP']);
    expect(logs.lines[0]).toMatchObject({ signals: ['SIGTERM'] });

    app.enableShutdownHooks(['SIGTERM', 'SIGUSR2']);
    expect([nestListens(app, 'SIGTERM'), nestListens(app, 'SIGUSR2')]).toEqual([false, true]);
    expect(logs.lines[1]).toMatchObject({ signals: ['SIGTERM'] });

    putBack();
    app.enableShutdownHooks(['SIGWINCH']);
    expect(nestListens(app, 'SIGWINCH')).toBe(true);
  });
});
