import { vi } from 'vitest';
import { identityVariables } from '../../src/config/identity.js';

/** The variables `createLogger` reads from `process.env`. */
export const loggerVariables = ['LOG_LEVEL', ...identityVariables] as const;

/** Clears (stubs as empty) every variable `createLogger` reads, then sets `values`; undo with `vi.unstubAllEnvs()`. */
export function stubLoggerEnvironment(
  values: Partial<Record<(typeof loggerVariables)[number], string>>,
): void {
  for (const name of loggerVariables) vi.stubEnv(name, '');
  for (const [name, value] of Object.entries(values)) vi.stubEnv(name, value);
}
