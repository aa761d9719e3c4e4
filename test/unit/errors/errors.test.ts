import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AppRunnerKitError,
  ConfigurationError,
  errorClasses,
  ListenError,
  MissingDependencyError,
} from '../../../src/errors.js';

const reference = readFileSync(new URL('../../../docs/error-codes.md', import.meta.url), 'utf8');

describe('error codes', () => {
  it('are unique', () => {
    const codes = errorClasses.map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it.each(errorClasses.map((c) => [c.code, c.name]))('documents %s (%s) in the reference', (code, name) => {
    expect(reference).toMatch(new RegExp(`^\\| \`${code}\` +\\| \`${name}\` +\\| .+ \\|$`, 'm'));
  });

  it('lists every error class the module exports', async () => {
    const module = await import('../../../src/errors.js');
    const exported = Object.values(module).filter(
      (value) => typeof value === 'function' && value.prototype instanceof Error,
    );
    expect(new Set(exported)).toEqual(new Set(errorClasses));
  });
});

describe('AppRunnerKitError', () => {
  it('carries code, name, message and cause', () => {
    const cause = new Error('EADDRINUSE');
    const error = new ListenError('Could not listen', { cause });
    expect(error.code).toBe('ARK_LISTEN_FAILED');
    expect(error.name).toBe('ListenError');
    expect(error.message).toBe('Could not listen');
    expect(error.cause).toBe(cause);
    expect(error.stack).toContain('ListenError');
  });

  it('answers instanceof along its own hierarchy only', () => {
    const error = new ConfigurationError('port', 'bad port');
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toBeInstanceOf(AppRunnerKitError);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ListenError);
    expect(new Error('plain')).not.toBeInstanceOf(AppRunnerKitError);
    expect({ code: 'ARK_CONFIG_INVALID' }).not.toBeInstanceOf(ConfigurationError);
    expect(null).not.toBeInstanceOf(AppRunnerKitError);
  });

  it('answers instanceof for an error built by another copy of the class', () => {
    // A second copy of the module, as a second installed package would load it.
    class ForeignBase extends Error {
      constructor() {
        super('foreign');
        Object.defineProperty(this, Symbol.for('apprunner-kit.error'), {
          value: ['ARK_ERROR', 'ARK_CONFIG_INVALID'],
        });
      }
    }
    const foreign = new ForeignBase();
    expect(foreign).toBeInstanceOf(ConfigurationError);
    expect(foreign).toBeInstanceOf(AppRunnerKitError);
    expect(foreign).not.toBeInstanceOf(ListenError);
  });

  it('names the missing package and the install command', () => {
    const error = new MissingDependencyError('@aws-sdk/client-ssm', 'An ssm: secret reference');
    expect(error.packageName).toBe('@aws-sdk/client-ssm');
    expect(error.message).toContain('npm install @aws-sdk/client-ssm');
  });
});
