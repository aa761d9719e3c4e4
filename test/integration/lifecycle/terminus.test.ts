// An app already on @godaddy/terminus beside the kit, on a real SIGTERM: terminus's `signal`
// defaults to SIGTERM, the kit's too.
import { afterEach, describe, expect, it } from 'vitest';
import { killApps, startApp } from '../../support/app-process.js';
import { get } from '../../support/http.js';

const fixture = new URL('../../fixtures/terminus-app.mjs', import.meta.url).pathname;

afterEach(killApps);

describe('@godaddy/terminus beside the kit', () => {
  it("as the docs set it up (terminus's signal moved off SIGTERM): the drain is the kit's, readiness fails from its start", async () => {
    const app = await startApp(fixture, { TERMINUS_SIGNAL: 'SIGUSR2', DRAIN_DELAY_MS: '600' });
    expect((await get(`${app.url}/readyz`)).status).toBe(200);
    const slow = get(`${app.url}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    app.signal('SIGTERM');
    await app.waitForLine((l) => l.msg === 'received SIGTERM');
    // Within the drain delay: terminus's readiness answers from the runtime's state.
    const ready = await get(`${app.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({
      status: 'fail',
      checks: { 'lifecycle:state': [{ observedValue: 'draining' }] },
    });
    expect(await slow).toMatchObject({ status: 200, body: 'slow done' });
    expect((await app.exit()).code).toBe(0);
    // Only terminus saying the readiness check failed, as it does for any failed check.
    const problems = app.lines.filter((l) => l.level === 'warn' || l.level === 'error');
    expect(problems.map((l) => l.msg)).toEqual(['terminus: healthcheck failed']);
  });

  it('left on SIGTERM, says at the signal that another listener handles it too', async () => {
    const app = await startApp(fixture);
    app.signal('SIGTERM');
    const warning = await app.waitForLine((l) => l.signal === 'SIGTERM' && l.level === 'warn');
    expect(warning).toMatchObject({ otherListeners: ['cleanup'] });
    expect(String(warning.msg)).toContain("@godaddy/terminus: give it signal: 'SIGUSR2'");
    await app.exit();
  });
});
