import { SecretNotFoundError } from '../../errors.js';
import type { FetchedSecret, SecretProvider } from '../provider.js';
import type { SecretReference } from '../reference.js';
import { type AwsClientHook, type AwsClientSettings, awsService } from './aws-client.js';
import { wrapAwsError } from './aws-errors.js';
import type { AwsClientLike } from './secrets-manager.js';

/** Options of {@link ssmProvider}. */
export interface SsmProviderOptions {
  readonly settings: AwsClientSettings;
  /** A client of your own, used for every reference. */
  readonly client?: AwsClientLike | undefined;
  /** Called with each client the provider creates. */
  readonly onClient?: AwsClientHook | undefined;
}

interface Parameter {
  readonly Name?: string;
  readonly Value?: string;
  readonly Type?: string;
  readonly Version?: number;
}

/** One parameter of a prefix, from {@link SsmProvider.fetchPath}. */
export interface PathParameter {
  readonly name: string;
  readonly value: string;
  readonly sensitive: boolean;
}

/** The SSM provider, which can also load every parameter under a prefix. */
export interface SsmProvider extends SecretProvider {
  fetchPath(
    path: string,
    recursive: boolean,
    region: string | undefined,
    signal: AbortSignal,
  ): Promise<PathParameter[]>;
}

type Sdk = typeof import('@aws-sdk/client-ssm');
type SsmReference = SecretReference & { kind: 'ssm' };

/** `GetParameters` takes at most 10 names. */
const batchSize = 10;

function toFetched(parameter: Parameter): FetchedSecret {
  return {
    value: parameter.Value ?? '',
    sensitive: parameter.Type === 'SecureString',
    ...(parameter.Version === undefined ? {} : { version: String(parameter.Version) }),
  };
}

/**
 * `ssm:` references and parameter ARNs, through `@aws-sdk/client-ssm` (an optional peer, imported on
 * first use), always with decryption. Start-up reads go in `GetParameters` batches of 10; a prefix is
 * read with `GetParametersByPath`, page by page.
 */
export function ssmProvider(options: SsmProviderOptions): SsmProvider {
  const service = awsService<Sdk>({
    feature: 'An ssm: parameter reference',
    load: () => import('@aws-sdk/client-ssm'),
    construct: (sdk, config) => new sdk.SSMClient(config),
    settings: options.settings,
    client: options.client,
    onClient: options.onClient,
  });
  const send = service.send;
  const wrap = (error: unknown, reference: string) =>
    (error as { code?: string }).code === 'ARK_DEPENDENCY_MISSING'
      ? (error as Error)
      : wrapAwsError(error, reference, 'ssm');

  const fetchBatch = async (
    region: string | undefined,
    batch: readonly SsmReference[],
    signal: AbortSignal,
    results: Map<SecretReference, FetchedSecret | Error>,
  ): Promise<void> => {
    const names = [...new Set(batch.map((r) => r.name))];
    try {
      const output = (await send(
        region,
        (s) => new s.GetParametersCommand({ Names: names, WithDecryption: true }),
        signal,
      )) as { Parameters?: Parameter[]; InvalidParameters?: string[] };
      const found = new Map((output.Parameters ?? []).map((p) => [p.Name, p]));
      for (const reference of batch) {
        const parameter = found.get(reference.name);
        results.set(
          reference,
          parameter === undefined
            ? new SecretNotFoundError(
                `${reference.raw}: ParameterNotFound (GetParameters listed it as invalid). Check the name and the region.`,
                {
                  reference: reference.raw,
                  awsCode: 'ParameterNotFound',
                },
              )
            : toFetched(parameter),
        );
      }
    } catch (error) {
      for (const reference of batch) results.set(reference, wrap(error, reference.raw));
    }
  };

  return {
    async fetch(reference: SecretReference, signal: AbortSignal): Promise<FetchedSecret> {
      if (reference.kind !== 'ssm') throw new TypeError(`cannot fetch ${reference.raw}`);
      try {
        const output = (await send(
          reference.region,
          (s) => new s.GetParameterCommand({ Name: reference.name, WithDecryption: true }),
          signal,
        )) as { Parameter?: Parameter };
        return toFetched(output.Parameter ?? {});
      } catch (error) {
        throw wrap(error, reference.raw);
      }
    },

    async fetchMany(references, signal) {
      const results = new Map<SecretReference, FetchedSecret | Error>();
      const byRegion = new Map<string | undefined, SsmReference[]>();
      for (const reference of references) {
        if (reference.kind !== 'ssm') continue;
        const list = byRegion.get(reference.region) ?? [];
        list.push(reference);
        byRegion.set(reference.region, list);
      }
      const batches: Promise<void>[] = [];
      for (const [region, list] of byRegion) {
        // Batch by distinct name: two references to one parameter share its slot.
        const names = [...new Set(list.map((r) => r.name))];
        for (let i = 0; i < names.length; i += batchSize) {
          const chunk = new Set(names.slice(i, i + batchSize));
          batches.push(
            fetchBatch(
              region,
              list.filter((r) => chunk.has(r.name)),
              signal,
              results,
            ),
          );
        }
      }
      await Promise.all(batches);
      return results;
    },

    async fetchPath(path, recursive, region, signal) {
      const parameters: PathParameter[] = [];
      let nextToken: string | undefined;
      do {
        let output: { Parameters?: Parameter[]; NextToken?: string };
        try {
          output = (await send(
            region,
            (s) =>
              new s.GetParametersByPathCommand({
                Path: path,
                Recursive: recursive,
                WithDecryption: true,
                MaxResults: 10,
                ...(nextToken === undefined ? {} : { NextToken: nextToken }),
              }),
            signal,
          )) as { Parameters?: Parameter[]; NextToken?: string };
        } catch (error) {
          throw wrap(error, `ssm:${path}`);
        }
        for (const parameter of output.Parameters ?? []) {
          parameters.push({
            name: parameter.Name ?? '',
            value: parameter.Value ?? '',
            sensitive: parameter.Type === 'SecureString',
          });
        }
        nextToken = output.NextToken;
      } while (nextToken !== undefined && nextToken !== '');
      return parameters;
    },
  };
}
