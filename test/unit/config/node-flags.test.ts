import { describe, expect, it } from 'vitest';
import { nodeFlags, nodeRejectionMode, nodeWarningSwitches } from '../../../src/config/node-flags.js';

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
