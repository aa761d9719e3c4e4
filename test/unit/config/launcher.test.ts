import { describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../../src/config/environment.js';
import { launcherWarnings, recogniseLauncher } from '../../../src/config/launcher.js';

const recognise = (env: Record<string, string>) => recogniseLauncher(parseEnvironment(env));
const onEcs = {
  platform: 'aws_ecs',
  platformFrom: 'ECS_CONTAINER_METADATA_URI_V4',
  shutdownTimeoutMs: 20_000,
} as const;
const local = { platform: undefined, platformFrom: undefined, shutdownTimeoutMs: 20_000 } as const;

describe('recogniseLauncher', () => {
  it('recognises npm by npm_lifecycle_event and node --run by NODE_RUN_SCRIPT_NAME', () => {
    expect(recognise({ npm_lifecycle_event: 'start' }).script).toEqual({ via: 'npm', name: 'start' });
    expect(recognise({ NODE_RUN_SCRIPT_NAME: 'serve' }).script).toEqual({ via: 'node --run', name: 'serve' });
    expect(recognise({ PORT: '8080' })).toEqual({ script: undefined, pm2: undefined });
  });

  it("reads pm2's variables as pm2 7 sets them (a setting left out sets nothing)", () => {
    expect(recognise({ pm_id: '3' }).pm2).toEqual({
      id: '3',
      killTimeoutMs: undefined,
      killTimeoutText: undefined,
      shutdownWithMessage: false,
      waitReady: false,
    });
    expect(
      recognise({ pm_id: '0', kill_timeout: '25000', shutdown_with_message: 'true', wait_ready: 'true' }).pm2,
    ).toEqual({
      id: '0',
      killTimeoutMs: 25_000,
      killTimeoutText: '25000',
      shutdownWithMessage: true,
      waitReady: true,
    });
  });

  it("ignores pm2's settings without pm_id, and never fails the start on a value it cannot read", () => {
    expect(recognise({ kill_timeout: '100', shutdown_with_message: 'true' }).pm2).toBeUndefined();
    expect(recognise({ pm_id: '0', kill_timeout: 'soon', wait_ready: 'yes' }).pm2).toMatchObject({
      killTimeoutMs: undefined,
      killTimeoutText: 'soon',
      waitReady: false,
    });
  });
});

describe('launcherWarnings', () => {
  it('warns of an npm script on an AWS platform, naming the fix', () => {
    const [warning, ...more] = launcherWarnings(recognise({ npm_lifecycle_event: 'start' }), onEcs);
    expect(more).toEqual([]);
    expect(warning!.message).toContain('an npm script (npm_lifecycle_event=start)');
    expect(warning!.message).toContain('aws_ecs (from ECS_CONTAINER_METADATA_URI_V4)');
    expect(warning!.message).toContain("the platform's SIGTERM will not reach this process");
    expect(warning!.message).toContain('CMD ["node", "server.mjs"]');
    expect(warning!.message).toContain('command: node server.mjs in apprunner.yaml');
    expect(warning!.fields).toEqual({ launcher: { name: 'npm', script: 'start', platform: 'aws_ecs' } });
  });

  it('says npx for npm exec, which runs the command in the same script shell', () => {
    const [warning] = launcherWarnings(recognise({ npm_lifecycle_event: 'npx' }), onEcs);
    expect(warning!.message).toContain(
      'the app runs under npx (npm exec) (npm_lifecycle_event=npx) on aws_ecs',
    );
  });

  it('warns of node --run on an AWS platform', () => {
    const [warning] = launcherWarnings(recognise({ NODE_RUN_SCRIPT_NAME: 'start' }), {
      ...onEcs,
      platform: 'aws_app_runner',
      platformFrom: 'OTEL_RESOURCE_ATTRIBUTES',
    });
    expect(warning!.message).toContain('node --run script (NODE_RUN_SCRIPT_NAME=start) on aws_app_runner');
    expect(warning!.message).toContain('PID 1');
  });

  it('says nothing of npm start or node --run run locally', () => {
    expect(launcherWarnings(recognise({ npm_lifecycle_event: 'example' }), local)).toEqual([]);
    expect(launcherWarnings(recognise({ NODE_RUN_SCRIPT_NAME: 'start' }), local)).toEqual([]);
  });

  it("warns under pm2, locally too, of a kill_timeout unset or shorter than the shutdown's, naming the value", () => {
    const [unset] = launcherWarnings(recognise({ pm_id: '0' }), local);
    expect(unset!.message).toContain('no kill_timeout (pm2 then waits 1600 ms)');
    expect(unset!.message).toContain('set kill_timeout: 21000 (shutdown.timeoutMs + 1000)');
    expect(unset!.fields).toEqual({
      launcher: { name: 'pm2', killTimeout: null, shutdownTimeoutMs: 20_000, advisedKillTimeoutMs: 21_000 },
    });
    const [short] = launcherWarnings(recognise({ pm_id: '0', kill_timeout: '5000' }), {
      ...local,
      shutdownTimeoutMs: 8_000,
    });
    expect(short!.message).toContain('kill_timeout 5000 ms, and shutdown.timeoutMs is 8000 ms');
    expect(short!.message).toContain('set kill_timeout: 9000');
    const [unreadable] = launcherWarnings(recognise({ pm_id: '0', kill_timeout: '5s' }), local);
    expect(unreadable!.message).toContain('kill_timeout="5s", which is not milliseconds');
  });

  it('says nothing under pm2 with a kill_timeout that covers the shutdown', () => {
    expect(launcherWarnings(recognise({ pm_id: '0', kill_timeout: '21000' }), local)).toEqual([]);
    expect(
      launcherWarnings(recognise({ pm_id: '0', kill_timeout: '3000' }), {
        ...local,
        shutdownTimeoutMs: 2_000,
      }),
    ).toEqual([]);
  });
});
