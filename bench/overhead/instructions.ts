/**
 * bench/overhead, instructions: what the kit adds per request counted in CPU instructions, not
 * seconds. Each variant's app runs under valgrind's callgrind, which counts every instruction the
 * process executes in user space (V8's compiled code included), whatever else the machine does: the
 * same build and the same requests give the same count within about 1 %. The app serves `--requests`
 * requests twice over (two runs, N1 and N2, one keep-alive connection, one request at a time); the
 * difference of the two totals over N2 − N1 is the count per request, start-up and shutdown cancelled.
 * `--connections 32` keeps that many requests in flight instead, the regime of a loaded app.
 * One request at a time is the quiet regime (no batching across requests): each pays for its own
 * event-loop turn, stdout write and timers. It counts no kernel time, and a count is not a duration
 * (the same count takes longer when caches are cold): use it to compare builds and variants.
 *
 *   npm run bench:overhead:instructions [-- --frameworks node,fastify --requests 2000,8000
 *                                          --variants kit-off,kit-on,kit-on-no-echo --node 26
 *                                          --connections 32]
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/support/child.js';
import { argNumber, argString } from '../lib/args.js';
import { appNodeLine } from '../lib/node-line.js';
import { ensureDebianCommand } from '../lib/wrk.js';
import { variantEnv } from './variant.js';

const frameworks = argString('frameworks', 'node').split(',');
const [n1, n2] = argString('requests', '2000,8000').split(',').map(Number) as [number, number];
const variants = argString('variants', 'kit-off,kit-on,kit-on-no-echo')
  .split(',')
  .filter((v) => v !== '' && v !== 'bare');
const connections = argNumber('connections', 1);
const app = new URL('app.mjs', import.meta.url).pathname;

/**
 * `count` GET / requests on `width` keep-alive connections, each connection one request at a time:
 * with more than one, requests queue at the app as they do under load (the app under valgrind is far
 * slower than this client), so the count includes what concurrency changes (batched writes, a fuller
 * heap at each scavenge).
 */
async function serve(port: number, count: number, width = 1): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: width });
  let left = count;
  const connection = async (): Promise<void> => {
    while (left > 0) {
      left--;
      await new Promise<void>((done, fail) => {
        const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          res.resume();
          res.on('end', done);
        });
        req.on('error', fail);
        req.end();
      });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(width, count) }, connection));
  } finally {
    agent.destroy();
  }
}

/** Instructions the app executed from its start to its exit, having served `count` requests. */
async function totalInstructions(framework: string, variant: string, count: number): Promise<number> {
  const port = await freePort();
  const out = join(tmpdir(), `apprunner-kit-callgrind-${process.pid}-${port}.out`);
  const env = {
    PATH: process.env.PATH ?? '',
    PORT: String(port),
    NODE_ENV: 'production',
    ...variantEnv(framework, variant),
  };
  const child = spawn(
    'taskset',
    ['-c', '0', 'valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`, appNodeLine().binary, app],
    { env, stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    const deadline = performance.now() + 120_000; // Node starts some 50 times slower under valgrind
    for (;;) {
      try {
        await serve(port, 1);
        break;
      } catch {
        if (performance.now() > deadline)
          throw new Error(`${framework}/${variant} did not answer under valgrind`);
        await new Promise((done) => setTimeout(done, 500));
      }
    }
    await serve(port, count - 1, connections);
    // The kit's apps stop on SIGTERM, the bare ones on SIGINT; either way callgrind writes its totals.
    child.kill('SIGTERM');
    child.kill('SIGINT');
    await exited;
    const totals = /^totals: (\d+)/m.exec(readFileSync(out, 'utf8'));
    if (totals === null) throw new Error(`${framework}/${variant}: no totals in ${out}`);
    return Number(totals[1]);
  } finally {
    child.kill('SIGKILL');
    rmSync(out, { force: true });
  }
}

async function main(): Promise<void> {
  await ensureDebianCommand('valgrind');
  const { version } = appNodeLine();
  const lines: string[] = [];
  for (const framework of frameworks) {
    const perRequest = new Map<string, number>();
    for (const variant of ['bare', ...variants]) {
      const low = await totalInstructions(framework, variant, n1);
      const high = await totalInstructions(framework, variant, n2);
      perRequest.set(variant, (high - low) / (n2 - n1));
      console.error(
        `${framework}/${variant}: ${Math.round(perRequest.get(variant)!)} instructions per request`,
      );
    }
    const bare = perRequest.get('bare')!;
    lines.push(
      `\n### ${framework} on Node ${version} (callgrind, ${n2} − ${n1} requests, ${
        connections === 1 ? 'one at a time' : `${connections} connections`
      })\n`,
      '| variant | instructions per request | added over bare | × bare |',
      '| --- | --- | --- | --- |',
    );
    for (const [variant, count] of perRequest)
      lines.push(
        `| ${variant} | ${Math.round(count).toLocaleString('en-US')} | ${
          variant === 'bare' ? '–' : `+${Math.round(count - bare).toLocaleString('en-US')}`
        } | ${(count / bare).toFixed(2)} |`,
      );
  }
  console.log(`\n## Instructions per request on Node ${version}`);
  for (const line of lines) console.log(line);
}

await main();
