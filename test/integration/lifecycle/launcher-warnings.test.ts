// The start-up warnings of a launcher, as bootstrapAppRunner writes them.
import { afterEach, describe, expect, it } from 'vitest';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

afterEach(stopRuntimes);

const hello = (_req: unknown, res: { end(body: string): void }) => res.end('hello');
const launcherLines = (lines: Record<string, unknown>[]) =>
  lines.filter((line) => line.level === 'warn' && line.launcher !== undefined);

describe('start-up warnings of the launcher', () => {
  it('warns once of npm start on ECS', async () => {
    const { logs } = await startRuntime({
      app: hello,
      env: { npm_lifecycle_event: 'start', ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/abc' },
    });
    const warned = launcherLines(logs.lines);
    expect(warned).toHaveLength(1);
    expect(warned[0]!.msg).toContain('npm script (npm_lifecycle_event=start) on aws_ecs');
  });

  it('warns of node --run on App Runner, named in OTEL_RESOURCE_ATTRIBUTES', async () => {
    const { logs } = await startRuntime({
      app: hello,
      env: { NODE_RUN_SCRIPT_NAME: 'start', OTEL_RESOURCE_ATTRIBUTES: 'cloud.platform=aws_app_runner' },
    });
    expect(launcherLines(logs.lines).map((l) => l.msg)).toEqual([
      expect.stringContaining('node --run script (NODE_RUN_SCRIPT_NAME=start) on aws_app_runner'),
    ]);
  });

  it('says nothing of npm start or npm run example on a laptop', async () => {
    const { logs } = await startRuntime({ app: hello, env: { npm_lifecycle_event: 'example' } });
    expect(launcherLines(logs.lines)).toEqual([]);
  });

  it("warns under pm2 of pm2's default kill_timeout, and not of one that covers shutdown.timeoutMs", async () => {
    const short = await startRuntime({ app: hello, env: { pm_id: '0', PM2_HOME: '/home/app/.pm2' } });
    expect(launcherLines(short.logs.lines).map((l) => l.msg)).toEqual([
      expect.stringContaining('set kill_timeout: 21000 (shutdown.timeoutMs + 1000)'),
    ]);
    const covered = await startRuntime({
      app: hello,
      env: { pm_id: '0', kill_timeout: '6000' },
      shutdown: { timeoutMs: 5_000 },
    });
    expect(launcherLines(covered.logs.lines)).toEqual([]);
  });
});
