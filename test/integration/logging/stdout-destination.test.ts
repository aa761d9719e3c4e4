// The kit's stdout writer in a real child process, on a real pipe: shared with the app's own
// console.log lines, and cut short by an exit while nobody reads.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const kit = new URL('../../../dist/index.js', import.meta.url).href;

/**
 * Runs `script` as an ES module, its stdout a pipe to `cat`, which starts reading after
 * `readAfterSeconds` (as a log shipper would: at once, or late).
 */
async function runScript(
  script: string,
  readAfterSeconds = 0,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const reader = readAfterSeconds === 0 ? 'cat' : `{ sleep ${readAfterSeconds}; cat; }`;
  const child = spawn(
    'bash',
    ['-c', `"$NODE" --input-type=module -e "$SCRIPT" | ${reader}; exit \${PIPESTATUS[0]}`],
    {
      env: { PATH: process.env.PATH ?? '', NODE: process.execPath, SCRIPT: script },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await new Promise<number | null>((resolve) =>
    child.once('close', (exitCode) => resolve(exitCode)),
  );
  clearTimeout(timer);
  return { code, stdout, stderr };
}

function parseLines(text: string): { valid: Record<string, unknown>[]; invalid: string[] } {
  const valid: Record<string, unknown>[] = [];
  const invalid: string[] = [];
  for (const line of text.split('\n').slice(0, -1)) {
    try {
      valid.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      invalid.push(line.slice(0, 120));
    }
  }
  return { valid, invalid };
}

describe('the kit on a stdout pipe', () => {
  it("never splits a line of its own or of the app's console.log, both writing under load", async () => {
    // Bursts of 20 lines of each kind a turn, fast enough to fill the pipe now and then.
    const script = `
      const { createLogger } = await import(${JSON.stringify(kit)});
      const logger = createLogger({ service: 'shared', pretty: false });
      const pad = 'p'.repeat(150);
      let i = 0;
      const burst = () => {
        for (let k = 0; k < 20 && i < 20000; k++, i++) {
          logger.info({ i, pad }, 'kit line');
          console.log(JSON.stringify({ console: true, i, pad }));
        }
        if (i < 20000) setImmediate(burst);
      };
      burst();`;
    const { code, stdout } = await runScript(script);
    const { valid, invalid } = parseLines(stdout);
    expect(invalid, 'lines split by another writer').toEqual([]);
    expect(stdout.endsWith('\n')).toBe(true);
    expect(new Set(valid.filter((l) => l.msg === 'kit line').map((l) => l.i)).size).toBe(20_000);
    expect(new Set(valid.filter((l) => l.console === true).map((l) => l.i)).size).toBe(20_000);
    expect(code).toBe(0);
  }, 30_000);

  it('counts on stderr the lines the exit could not write, whole lines before them, on process.exit and at a natural end', async () => {
    // 20,000 lines of ~250 bytes: the pipe takes 64 KiB, the reader comes after the exit's 2 s bound.
    const script = (ending: string) => `
      const { createLogger } = await import(${JSON.stringify(kit)});
      const logger = createLogger({ service: 'exit', pretty: false });
      const pad = 'p'.repeat(150);
      for (let i = 0; i < 20000; i++) logger.info({ i, pad }, 'line');
      ${ending}`;
    const runs = await Promise.all([runScript(script('process.exit(0);'), 3), runScript(script(''), 3)]);
    for (const { code, stdout, stderr } of runs) {
      const { valid, invalid } = parseLines(stdout);
      expect(invalid).toEqual([]);
      expect(stdout.endsWith('\n'), 'the last line written is whole').toBe(true);
      expect(valid.length).toBeGreaterThan(0);
      const said =
        /apprunner-kit: (\d+) log lines not written at exit \(stdout was not read within 2000 ms\)\n/.exec(
          stderr,
        );
      expect(said, `stderr: ${stderr}`).not.toBeNull();
      expect(valid.length + Number(said![1])).toBe(20_000);
      expect(code).toBe(0);
    }
  }, 30_000);
});

describe('the kit on a stdout pipe, in worker threads', () => {
  /** A script whose worker logs `lines` lines over two turns, tells the main thread, then `then`. */
  const script = (lines: number, then: string, main: string) => `
    const { Worker } = await import('node:worker_threads');
    const { createLogger } = await import(${JSON.stringify(kit)});
    const logger = createLogger({ service: 'main', pretty: false });
    const worker = new Worker(\`
      const { parentPort } = await import('node:worker_threads');
      const { createLogger } = await import(${JSON.stringify(kit)});
      const logger = createLogger({ service: 'worker', pretty: false });
      for (let i = 0; i < ${lines}; i++) {
        if (i === ${Math.floor(lines / 2)}) await new Promise((resolve) => setImmediate(resolve));
        logger.info({ i, pad: 'p'.repeat(150) }, 'worker line');
      }
      parentPort.postMessage('logged');
      ${then}\`, { eval: true });
    worker.once('message', async () => { ${main} });`;
  const workerLines = (stdout: string) =>
    new Set(
      parseLines(stdout)
        .valid.filter((l) => l.msg === 'worker line')
        .map((l) => l.i),
    ).size;

  it("writes a task's lines before the thread parks (piscina's Atomics.wait), and before terminate() or the main thread's exit", async () => {
    const park = 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);';
    const compute = 'const end = Date.now() + 200; while (Date.now() < end);';
    const pause = 'await new Promise((resolve) => setTimeout(resolve, 300));';
    const runs = await Promise.all([
      runScript(script(100, park, `${pause} await worker.terminate();`)),
      runScript(script(100, compute, 'await worker.terminate();')),
      runScript(script(100, compute, "logger.info('main exits'); process.exit(0);")),
    ]);
    for (const { code, stdout, stderr } of runs) {
      expect(parseLines(stdout).invalid).toEqual([]);
      expect(workerLines(stdout), `stderr: ${stderr}`).toBe(100);
      expect(stderr).toBe('');
      expect(code).toBe(0);
    }
  }, 30_000);

  it('waits for a slow reader rather than leave lines behind when the thread ends', async () => {
    // 2,000 lines of ~250 bytes, eight times what the pipe holds; the reader comes after 3 s, past
    // the 2 s that an exit waits. The worker ends on its own as soon as it has logged.
    const { code, stdout, stderr } = await runScript(script(2000, '', ''), 3);
    expect(parseLines(stdout).invalid).toEqual([]);
    expect(workerLines(stdout), `stderr: ${stderr}`).toBe(2000);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 30_000);
});
