import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { bindingOf, listeningSocketsOfGroup, parseProcNetTcp } from '../../../src/cli/listening-sockets.js';

const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 566 1 00000000851568b6 100 0 0 10 0
   1: 0100007F:81B3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 201197 1 00000000722f47e2 100 0 0 10 0
   2: 020200C0:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 42 1 00000000722f47e2 100 0 0 10 0
   3: 0100007F:9F84 0100007F:46CB 06 00000000:00000000 03:00000BE5 00000000     0        0 0 3 000000003f05c290
`;
const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:8DD1 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 203280 1 00000000893c2d82 100 0 0 10 0
   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 1 00000000893c2d82 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 8 1 00000000893c2d82 100 0 0 10 0
   3: 000000FD000000000000000002000000:1F92 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9 1 00000000893c2d82 100 0 0 10 0
   4: 0000000000000000FFFF00000100007F:46CB 0000000000000000FFFF00000100007F:9F96 06 00000000:00000000 03:00000C53 00000000     0        0 0 3 00000000c8b745b4
`;

describe('parseProcNetTcp', () => {
  it('decodes the listening IPv4 sockets by inode, skipping other states', () => {
    expect([...parseProcNetTcp(tcp, 4)]).toEqual([
      [566, { address: '0.0.0.0', port: 2024, family: 4 }],
      [201197, { address: '127.0.0.1', port: 33203, family: 4 }],
      [42, { address: '192.0.2.2', port: 8080, family: 4 }],
    ]);
  });

  it('decodes IPv6 wildcard, loopback, IPv4-mapped and global addresses', () => {
    expect([...parseProcNetTcp(tcp6, 6).values()]).toEqual([
      { address: '::', port: 36305, family: 6 },
      { address: '::1', port: 8080, family: 6 },
      { address: '::ffff:127.0.0.1', port: 8081, family: 6 },
      { address: 'fd00::2', port: 8082, family: 6 },
    ]);
  });
});

describe('bindingOf', () => {
  it.each([
    ['0.0.0.0', 'all'],
    ['::', 'all'],
    ['127.0.0.1', 'loopback'],
    ['127.0.1.1', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['192.0.2.2', 'address'],
    ['fd00::2', 'address'],
  ])('%s accepts from %s', (address, binding) => {
    expect(bindingOf(address)).toBe(binding);
  });
});

describe.runIf(process.platform === 'linux')('listeningSocketsOfGroup', () => {
  let pid: number | undefined;
  afterEach(() => {
    if (pid !== undefined) process.kill(-pid, 'SIGKILL');
    pid = undefined;
  });

  it("finds the sockets of a process group's members, children included", async () => {
    // A shell (the group leader) whose child node process listens on 127.0.0.1.
    const script = `require('node:net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port) })`;
    const child = spawn('sh', ['-c', `"${process.execPath}" -e "${script}"`], {
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    pid = child.pid;
    const port = await new Promise<number>((resolve) =>
      child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d)))),
    );
    const sockets = await listeningSocketsOfGroup(child.pid!);
    expect(sockets).toEqual([{ address: '127.0.0.1', port, family: 4 }]);
  });
});
