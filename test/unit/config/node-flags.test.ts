import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  nodeFlags,
  nodeRejectionMode,
  nodeWarningSwitches,
  readNodeOptions,
} from '../../../src/config/node-flags.js';
import { temporaryDirectory } from '../../support/temp-dir.js';

describe('nodeFlags', () => {
  it('reads NODE_OPTIONS, then the command line, as --name=value with dashes in the name', () => {
    expect(
      nodeFlags(
        ['--disable_warning', 'MY_CODE', '--no-warnings', '--import=./a_b.mjs'],
        ' --redirect-warnings "/tmp/a \\"b\\".txt"  --unhandled_rejections=warn ',
      ),
    ).toEqual([
      '--redirect-warnings=/tmp/a "b".txt',
      '--unhandled-rejections=warn',
      '--disable-warning=MY_CODE',
      '--no-warnings',
      '--import=./a_b.mjs',
    ]);
  });
});

describe('nodeRejectionMode', () => {
  it('is the last valid mode given: the command line wins over NODE_OPTIONS', () => {
    expect(
      nodeRejectionMode(nodeFlags(['--unhandled-rejections=strict'], '--unhandled-rejections=warn')),
    ).toBe('strict');
    expect(nodeRejectionMode(nodeFlags(['--unhandled-rejections', 'none'], undefined))).toBe('none');
    expect(nodeRejectionMode(nodeFlags([], '--unhandled-rejections=bogus'))).toBeUndefined();
  });
});

describe('nodeWarningSwitches', () => {
  it('reads --no-warnings (the last of it and --warnings) and NODE_NO_WARNINGS=1, as Node does', () => {
    const silenced = (execArgv: string[], options?: string, variable?: string) =>
      nodeWarningSwitches(nodeFlags(execArgv, options), variable).silenced;
    expect(silenced([])).toBe(false);
    expect(silenced(['--no-warnings'])).toBe(true);
    expect(silenced(['--warnings'], '--no-warnings')).toBe(false);
    expect(silenced([], undefined, '1')).toBe(true);
    expect(silenced(['--warnings'], undefined, '1')).toBe(true);
    expect(silenced([], undefined, 'true')).toBe(false);
  });

  it('collects every --disable-warning and takes the last --redirect-warnings', () => {
    const switches = nodeWarningSwitches(
      nodeFlags(
        ['--disable-warning=MY_CODE', '--redirect-warnings=/b.txt'],
        '--disable-warning=DEP0040 --redirect-warnings=/a.txt',
      ),
      undefined,
    );
    expect([...switches.disabled]).toEqual(['DEP0040', 'MY_CODE']);
    expect(switches.redirectedTo).toBe('/b.txt');
  });
});

describe('readNodeOptions', () => {
  const dir = temporaryDirectory('ark-node-options-');
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return name;
  };
  write(
    'node.config.json',
    JSON.stringify({
      $schema: 'https://nodejs.org/dist/v24.0.0/docs/node-config-schema.json',
      nodeOptions: {
        'unhandled-rejections': 'warn',
        warnings: false,
        'disable-warning': ['DEP0040', 'MY_CODE'],
      },
    }),
  );
  write('strict.json', JSON.stringify({ nodeOptions: { 'unhandled-rejections': 'strict' } }));

  it("puts the config file's nodeOptions below the command line, as Node ranks them", () => {
    const { flags, configFile } = readNodeOptions(
      ['--experimental-config-file=node.config.json', '--unhandled-rejections=none'],
      undefined,
      dir,
      24,
    );
    expect(configFile).toBeUndefined();
    expect(flags).toEqual([
      '--unhandled-rejections=warn',
      '--no-warnings',
      '--disable-warning=DEP0040',
      '--disable-warning=MY_CODE',
      '--experimental-config-file=node.config.json',
      '--unhandled-rejections=none',
    ]);
    expect(nodeRejectionMode(flags)).toBe('none');
    expect(nodeWarningSwitches(flags, undefined)).toMatchObject({ silenced: true });
  });

  it.each([22, 24, 26])(
    'leaves the file out on Node %i where NODE_OPTIONS is set, even empty, as Node does (and does not read it)',
    (major) => {
      for (const nodeOptions of ['--disable-warning=ExperimentalWarning', '', ' ']) {
        expect(readNodeOptions(['--experimental-config-file=none.json'], nodeOptions, dir, major)).toEqual({
          flags: [...nodeFlags([], nodeOptions), '--experimental-config-file=none.json'],
          configFile: undefined,
        });
      }
    },
  );

  it.each([
    [22, ['--warnings']],
    [24, ['--no-warnings', '--warnings']],
    [26, ['--no-warnings', '--warnings']],
  ])(
    'takes a false in the file as --no-<name> from Node 24 on, and Node 22 drops it: on %i, %j',
    (major, expected) => {
      const read = (warnings: unknown) => {
        write('booleans.json', JSON.stringify({ nodeOptions: { warnings } }));
        return readNodeOptions(['--experimental-config-file=booleans.json'], undefined, dir, major).flags;
      };
      expect(read([false, true]).filter((flag) => flag.endsWith('-warnings'))).toEqual(expected);
      expect(nodeWarningSwitches(read(false), undefined).silenced).toBe(major >= 24);
      expect(nodeWarningSwitches(read(true), undefined).silenced).toBe(false);
    },
  );

  it.each([
    [['--config-file=node.config.json'], 'warn'],
    [['--experimental-config-file', 'node.config.json'], 'warn'],
    [['--experimental-default-config-file'], 'warn'],
    [['--config-file=node.config.json', `--experimental-config-file=${join(dir, 'strict.json')}`], 'strict'],
    [['--experimental-config-file=strict.json', '--config-file=node.config.json'], 'warn'],
    [['--experimental-config-file=strict.json', '--experimental-default-config-file'], 'warn'],
  ])(
    'reads the file %j names on Node 24 and later (relative to the working directory; the last given)',
    (execArgv, mode) => {
      for (const major of [24, 26]) {
        expect(nodeRejectionMode(readNodeOptions(execArgv, undefined, dir, major).flags)).toBe(mode);
      }
    },
  );

  it.each([
    [['--experimental-config-file', 'strict.json', '--experimental-config-file=node.config.json'], 'strict'],
    [['--experimental-config-file=node.config.json', '--experimental-config-file=strict.json'], 'warn'],
    [['--experimental-config-file=strict.json', '--experimental-default-config-file'], 'strict'],
    [['--experimental-default-config-file', '--experimental-config-file=strict.json'], 'strict'],
    [['--experimental-default-config-file'], 'warn'],
  ])(
    'reads the file %j names on Node 22: the first --experimental-config-file, else node.config.json',
    (execArgv, mode) => {
      expect(nodeRejectionMode(readNodeOptions(execArgv, undefined, dir, 22).flags)).toBe(mode);
    },
  );

  it.each([
    ['missing', 'none.json'],
    ['not JSON', write('broken.json', '{ "nodeOptions": ')],
  ])('leaves a file %s out and says why, without throwing', (_case, name) => {
    const read = readNodeOptions([`--config-file=${name}`, '--unhandled-rejections=throw'], undefined, dir);
    expect(read.flags).toEqual([`--config-file=${name}`, '--unhandled-rejections=throw']);
    expect(read.configFile).toMatchObject({ path: name, error: expect.any(Error) });
  });

  it('reads nothing without a config file flag', () => {
    expect(readNodeOptions(['--no-warnings'], undefined, dir)).toEqual({
      flags: ['--no-warnings'],
      configFile: undefined,
    });
  });
});
