/**
 * bench/secrets: (1) the cost of a cache-hit `secrets.get(name)` as a ratio to a plain `Map#get`,
 * same run; (2) a cold start of 50 references (25 SSM parameters, 25 Secrets Manager secrets)
 * against the test kit's AWS endpoint with 20 ms of latency per call: API calls and wall time of
 * the kit's `load()` against naive sequential fetching with the same SDK clients.
 *
 *   npm run bench:secrets
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createSecretStore } from '../../src/index.js';
import { applyEnv, awsClientEnv, startAwsEndpoint } from '../../test/support/aws-endpoint.js';
import { printChart } from '../lib/chart.js';
import { spread } from '../lib/stats.js';

function nsPerOp(fn: () => unknown, iterations: number): number {
  for (let i = 0; i < 100_000; i++) fn();
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - started) / iterations;
}

async function getCost(): Promise<void> {
  const env: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  const map = new Map<string, string>();
  for (let i = 0; i < 50; i++) {
    env[`V${i}`] = `secret-value-${i}`;
    secrets[`S${i}`] = `env:V${i}`;
    map.set(`S${i}`, `secret-value-${i}`);
  }
  const store = createSecretStore({ env, secrets });
  await store.load();
  let sink = 0;
  const rounds: { map: number; kit: number }[] = [];
  for (let round = 0; round < 5; round++) {
    const mapNs = nsPerOp(() => {
      sink += map.get('S17')!.length;
    }, 2_000_000);
    const kitNs = nsPerOp(() => {
      sink += store.get('S17').length;
    }, 2_000_000);
    rounds.push({ map: mapNs, kit: kitNs });
  }
  const mapNs = spread(rounds.map((r) => r.map)).median;
  const kitNs = spread(rounds.map((r) => r.kit)).median;
  console.log('\n## Cache-hit read (5 rounds of 2,000,000, median)\n');
  console.log('| read | ns per call | × Map#get |');
  console.log('| --- | --- | --- |');
  console.log(`| Map#get | ${mapNs.toFixed(1)} | 1.00 |`);
  console.log(`| secrets.get(name) | ${kitNs.toFixed(1)} | ${(kitNs / mapNs).toFixed(2)} |`);
  printChart({
    id: 'secrets-get',
    title: 'Cache-hit secret read (5 rounds of 2,000,000, median)',
    unit: 'ns per call (lower is better)',
    bars: [
      { label: 'Map#get', value: mapNs },
      { label: 'secrets.get(name)', value: kitNs, highlight: true },
    ],
  });
  if (sink === 0) console.log('');
}

async function coldStart(): Promise<void> {
  const endpoint = await startAwsEndpoint();
  const restore = applyEnv(awsClientEnv(endpoint));
  try {
    const secrets: Record<string, string> = {};
    for (let i = 0; i < 25; i++) {
      endpoint.putParameter(`/bench/p${i}`, `parameter-${i}`, { type: 'SecureString' });
      endpoint.putSecret(`bench/s${i}`, JSON.stringify({ password: `password-${i}` }));
      secrets[`P${i}`] = `ssm:/bench/p${i}`;
      secrets[`S${i}`] = `secretsmanager:bench/s${i}#password`;
    }
    const latency = () => endpoint.inject('*', { kind: 'delay', ms: 20, times: 1_000 });

    latency();
    endpoint.resetCalls();
    let started = performance.now();
    await createSecretStore({ secrets }).load();
    const kit = { ms: performance.now() - started, calls: endpoint.calls() };

    endpoint.clearFaults();
    latency();
    endpoint.resetCalls();
    const ssm = new SSMClient({});
    const sm = new SecretsManagerClient({});
    started = performance.now();
    for (let i = 0; i < 25; i++) {
      await ssm.send(new GetParameterCommand({ Name: `/bench/p${i}`, WithDecryption: true }));
      const secret = await sm.send(new GetSecretValueCommand({ SecretId: `bench/s${i}` }));
      JSON.parse(secret.SecretString ?? '{}');
    }
    const naive = { ms: performance.now() - started, calls: endpoint.calls() };
    ssm.destroy();
    sm.destroy();

    console.log('\n## Cold start of 50 references (20 ms per AWS call)\n');
    console.log('| loader | API calls | wall time, ms |');
    console.log('| --- | --- | --- |');
    console.log(
      `| naive sequential GetParameter / GetSecretValue | ${naive.calls} | ${Math.round(naive.ms)} |`,
    );
    console.log(`| kit load() (GetParameters by 10, parallel) | ${kit.calls} | ${Math.round(kit.ms)} |`);
    console.log(
      `\nkit: ${(naive.ms / kit.ms).toFixed(1)}× faster with ${naive.calls - kit.calls} fewer calls`,
    );
    printChart({
      id: 'secrets-cold-start',
      title: 'Cold start of 50 references (20 ms per AWS call)',
      unit: 'wall time, ms (lower is better)',
      digits: 0,
      bars: [
        { label: `naive sequential (${naive.calls} calls)`, value: naive.ms },
        { label: `kit load() (${kit.calls} calls)`, value: kit.ms, highlight: true },
      ],
    });
  } finally {
    restore();
    await endpoint.close();
  }
}

await getCost();
await coldStart();
