import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { awsProbe } from '../../../src/index.js';
import { type AwsEndpoint, applyEnv, awsClientEnv, startAwsEndpoint } from '../../support/aws-endpoint.js';
import { baseUrl, get } from '../../support/http.js';
import { startRuntime, stopRuntimes } from '../../support/runtime.js';

let endpoint: AwsEndpoint;
let restoreEnv: () => void;
let ssm: SSMClient;
const command = new GetParameterCommand({ Name: '/notes/flags' });

beforeAll(async () => {
  endpoint = await startAwsEndpoint();
  endpoint.putParameter('/notes/flags', 'on');
  restoreEnv = applyEnv({ ...awsClientEnv(endpoint), AWS_PROFILE: undefined, AWS_SESSION_TOKEN: undefined });
  ssm = new SSMClient({ maxAttempts: 1 });
});

afterEach(async () => {
  await stopRuntimes();
  endpoint.clearFaults();
  endpoint.resetCalls();
});

afterAll(async () => {
  ssm.destroy();
  restoreEnv();
  await endpoint.close();
});

const never = new AbortController().signal;

describe('awsProbe', () => {
  it('passes when the service answers, with the round trip, sending the same command each time', async () => {
    const probe = awsProbe(ssm, command);
    expect(await probe(never)).toMatchObject({
      status: 'pass',
      observedUnit: 'ms',
      observedValue: expect.any(Number),
    });
    expect(await probe(never)).toMatchObject({ status: 'pass' });
    expect(endpoint.calls('GetParameter')).toBe(2);
  });

  it('fails with the service error when the app cannot work (access denied, a resource gone)', async () => {
    endpoint.inject('GetParameter', { kind: 'error', error: 'AccessDeniedException', times: 1 });
    await expect(awsProbe(ssm, command)(never)).rejects.toMatchObject({ name: 'AccessDeniedException' });
    endpoint.removeParameter('/notes/flags');
    await expect(awsProbe(ssm, command)(never)).rejects.toMatchObject({ name: 'ParameterNotFound' });
    endpoint.putParameter('/notes/flags', 'on');
  });

  it('warns, not fails, when throttled: the service answered', async () => {
    endpoint.inject('GetParameter', { kind: 'error', error: 'ThrottlingException', times: 1 });
    expect(await awsProbe(ssm, command)(never)).toMatchObject({
      status: 'warn',
      output: 'throttled (ThrottlingException): the service answered, but not now',
    });
  });

  it('aborts the call when the check times out, and /readyz says so within its budget', async () => {
    const { runtime } = await startRuntime({
      app: (_req, res) => res.end(),
      health: { timeoutMs: 200, minIntervalMs: 0 },
    });
    runtime.health.register('parameters', awsProbe(ssm, command), { componentType: 'datastore' });
    endpoint.inject('GetParameter', { kind: 'hang', times: 1 });
    const started = performance.now();
    const response = await get(`${baseUrl(runtime.server!)}/readyz`);
    expect(response.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(1_000);
    // The hung call was given up: the next check sends a new one, which passes.
    expect((await get(`${baseUrl(runtime.server!)}/readyz`)).status).toBe(200);
    expect(endpoint.calls('GetParameter')).toBe(2);
  });
});
