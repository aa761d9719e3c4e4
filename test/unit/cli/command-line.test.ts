import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnvironment } from '../../../src/cli/check-options.js';
import { type CommandLine, parseCommandLine } from '../../../src/cli/command-line.js';
import { ConfigurationError } from '../../../src/errors.js';

const cwd = mkdtempSync(join(tmpdir(), 'ark-cli-args-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function check(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const line: CommandLine = parseCommandLine(argv, { cwd, env });
  if (line.kind !== 'check') throw new Error(`expected a check, got ${line.kind}`);
  return line;
}

function refused(argv: string[], env: NodeJS.ProcessEnv = {}): ConfigurationError {
  try {
    parseCommandLine(argv, { cwd, env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error(`expected ${argv.join(' ')} to be refused`);
}

describe('parseCommandLine', () => {
  it("defaults to App Runner's health check and the documented local bounds", () => {
    const { options, json, strict } = check(['check', '--', 'node', 'server.js']);
    expect(options).toEqual({
      command: ['node', 'server.js'],
      port: 8080,
      env: {},
      cwd,
      health: {
        protocol: 'tcp',
        path: '/',
        intervalS: 5,
        timeoutS: 2,
        healthyThreshold: 1,
        unhealthyThreshold: 5,
      },
      probeIntervalMs: 1000,
      healthSamples: 3,
      startTimeoutMs: 60_000,
      graceMs: 10_000,
      load: { connections: 4, requests: 300, path: '/' },
    });
    expect(json).toBe(false);
    expect(strict).toBe(false);
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(options.health)).toBe(true);
  });

  it('reads every option, and passes the command after -- untouched', () => {
    const { options, json, strict } = check(
      [
        'check',
        '--port=3000',
        '--env',
        'A=1',
        '--env',
        'B=x=y',
        '--env',
        'FROM_SHELL',
        '--health-path',
        '/healthz',
        '--health-interval',
        '10',
        '--health-timeout',
        '5',
        '--healthy-threshold',
        '2',
        '--unhealthy-threshold',
        '3',
        '--probe-interval',
        '100',
        '--health-samples',
        '5',
        '--start-timeout',
        '2.5',
        '--grace',
        '0.5',
        '--connections',
        '8',
        '--requests',
        '100',
        '--load-path',
        '/ping',
        '--json',
        '--strict',
        '--',
        'node',
        '--port',
        '1',
        '--',
        'x',
      ],
      { FROM_SHELL: 'shell value' },
    );
    expect(options.command).toEqual(['node', '--port', '1', '--', 'x']);
    expect(options.port).toBe(3000);
    expect(options.env).toEqual({ A: '1', B: 'x=y', FROM_SHELL: 'shell value' });
    expect(options.health).toEqual({
      protocol: 'http',
      path: '/healthz',
      intervalS: 10,
      timeoutS: 5,
      healthyThreshold: 2,
      unhealthyThreshold: 3,
    });
    expect(options.probeIntervalMs).toBe(100);
    expect(options.healthSamples).toBe(5);
    expect(options.startTimeoutMs).toBe(2500);
    expect(options.graceMs).toBe(500);
    expect(options.load).toEqual({ connections: 8, requests: 100, path: '/ping' });
    expect(json).toBe(true);
    expect(strict).toBe(true);
  });

  it('uses an HTTP check on / with --health-protocol http alone', () => {
    expect(check(['check', '--health-protocol', 'http', '--', 'app']).options.health).toMatchObject({
      protocol: 'http',
      path: '/',
    });
  });

  it('caps the default probe interval at the health interval', () => {
    expect(check(['check', '--health-interval', '1', '--', 'app']).options.probeIntervalMs).toBe(1000);
  });

  it('answers --help and --version', () => {
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['check', '-h'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['-v'])).toEqual({ kind: 'version' });
  });

  it.each([
    [
      ['check', '--port', '0', '--', 'a'],
      '--port',
      'Invalid --port: received "0"; expected an integer from 1 to 65535.',
    ],
    [['check', '--port', '80.5', '--', 'a'], '--port', 'expected an integer from 1 to 65535'],
    [
      ['check', '--health-interval', '21', '--', 'a'],
      '--health-interval',
      'expected an integer from 1 to 20',
    ],
    [['check', '--health-timeout', '0', '--', 'a'], '--health-timeout', 'expected an integer from 1 to 20'],
    [['check', '--healthy-threshold', '25', '--', 'a'], '--healthy-threshold', 'from 1 to 20'],
    [['check', '--unhealthy-threshold', 'five', '--', 'a'], '--unhealthy-threshold', 'from 1 to 20'],
    [['check', '--health-protocol', 'grpc', '--', 'a'], '--health-protocol', 'expected "tcp" or "http"'],
    [
      ['check', '--health-protocol', 'tcp', '--health-path', '/h', '--', 'a'],
      '--health-path',
      'a TCP check has no path',
    ],
    [['check', '--health-path', 'healthz', '--', 'a'], '--health-path', 'a path starting with "/"'],
    [['check', '--probe-interval', '6000', '--', 'a'], '--probe-interval', 'from 50 to 5000'],
    [
      ['check', '--start-timeout', '301', '--', 'a'],
      '--start-timeout',
      'a number of seconds from 0.5 to 300',
    ],
    [['check', '--grace=-1', '--', 'a'], '--grace', 'a number of seconds from 0.1 to 120'],
    [['check', '--connections', '33', '--', 'a'], '--connections', 'from 1 to 32'],
    [
      ['check', '--connections', '8', '--requests', '20', '--', 'a'],
      '--requests',
      'at least 4 per connection (32',
    ],
    [['check', '--env', '1A=x', '--', 'a'], '--env', 'KEY=VALUE or KEY'],
    [['check', '--env', 'PORT=1', '--', 'a'], '--env', 'set the port with --port'],
    [['check', '--env', 'UNSET_HERE', '--', 'a'], '--env', 'it is not set in this shell'],
    [['check', '--cwd', 'no/such/dir', '--', 'a'], '--cwd', 'an existing directory'],
    [['check', '--bogus', '--', 'a'], 'arguments', 'unknown option --bogus. The app'],
    [
      ['check', '--grace', '-1', '--', 'a'],
      'arguments',
      'option --grace needs a value, as in --grace 30 (one starting with "-" is written --grace=-1). The app',
    ],
    [['check', '--grace', '--', 'a'], 'arguments', 'option --grace needs a value'],
    [['check', '--json=1', '--', 'a'], 'arguments', 'option --json takes no value. The app'],
    [['check', 'node', 'server.js'], 'command', "Put the app's command after --"],
    [['check', '--'], 'command', "Put the app's command after --"],
    [['deploy', '--', 'a'], 'command', 'Unknown command "deploy"'],
    [[], 'command', 'No command given'],
  ])('refuses %j, naming %s', (argv, field, message) => {
    const error = refused(argv);
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });
});

describe('cleanEnvironment', () => {
  it('gives the app PATH, HOME, the --env pairs and PORT, nothing else', () => {
    const env = cleanEnvironment(
      { port: 9000, env: { LOG_LEVEL: 'debug' } },
      { PATH: '/bin', HOME: '/root', AWS_SECRET_ACCESS_KEY: 'nope', NODE_OPTIONS: '--inspect' },
    );
    expect(env).toEqual({ PATH: '/bin', HOME: '/root', LOG_LEVEL: 'debug', PORT: '9000' });
  });
});
