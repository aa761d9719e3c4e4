// One process of the fleet simulation: starts the instances it is given (INSTANCES: a JSON list of
// start offsets in ms), each loading REFS SSM parameters at its offset, and prints one JSON line per
// instance: { ok, readyMs, error }. LOADER=kit: the kit's secret store (GetParameters by 10, start-up
// retries within BUDGET_MS). LOADER=naive: one SSMClient per instance with the SDK's defaults (3
// attempts, standard retry), one GetParameter per reference, all at once — what many apps do today.
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createSecretStore } from 'apprunner-kit';

const offsets = JSON.parse(process.env.INSTANCES ?? '[]');
const refs = Number(process.env.REFS ?? 20);
const budgetMs = Number(process.env.BUDGET_MS ?? 60_000);
const names = Array.from({ length: refs }, (_, i) => `/fleet/p${String(i + 1).padStart(2, '0')}`);

async function kit() {
  const store = createSecretStore({
    secrets: Object.fromEntries(names.map((name, i) => [`P${i + 1}`, `ssm:${name}`])),
    options: { startupTimeoutMs: budgetMs },
  });
  await store.load();
}

async function naive() {
  const client = new SSMClient({});
  await Promise.all(
    names.map((Name) => client.send(new GetParameterCommand({ Name, WithDecryption: true }))),
  );
}

const load = process.env.LOADER === 'naive' ? naive : kit;
const origin = performance.now();
await Promise.all(
  offsets.map(
    (offset) =>
      new Promise((resolve) => {
        setTimeout(async () => {
          const started = performance.now();
          let line;
          try {
            await load();
            line = { ok: true, readyMs: performance.now() - started, at: started - origin };
          } catch (error) {
            line = { ok: false, readyMs: performance.now() - started, error: String(error?.name ?? error) };
          }
          process.stdout.write(`${JSON.stringify(line)}\n`);
          resolve();
        }, offset);
      }),
  ),
);
