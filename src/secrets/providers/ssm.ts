import { SecretNotFoundError } from '../../errors.js';
import type { FetchedSecret, SecretProvider } from '../provider.js';
import type { SecretReference } from '../reference.js';
import { type AwsProviderOptions, awsService } from './aws-client.js';
import { wrapAwsError } from './aws-errors.js';

/** Options of {@link ssmProvider}. */
export type SsmProviderOptions = AwsProviderOptions;

interface Parameter {
  readonly Name?: string;
  readonly ARN?: string;
  readonly Value?: string;
  readonly Type?: string;
  readonly Version?: number;
  /** `:3` or `:prod`: the version or label the parameter was asked for with, not in its name. */
  readonly Selector?: string;
}

/** One parameter of a prefix, from {@link SsmProvider.fetchPath}. */
export interface PathParameter {
  readonly name: string;
  readonly value: string;
  readonly sensitive: boolean;
}

/** The SSM provider, which can also load every parameter under a prefix. */
export interface SsmProvider extends SecretProvider {
  /**
   * Every parameter under `path`, page by page; each page's call goes through `retry` when given
   * (a throttled page is asked again, not the pages before it).
   */
  fetchPath(
    path: string,
    recursive: boolean,
    region: string | undefined,
    signal: AbortSignal,
    retry?: <T>(call: () => Promise<T>) => Promise<T>,
  ): Promise<PathParameter[]>;
  /** Destroys the AWS clients the provider built (never a client it was given), once their calls settle. */
  close(): Promise<void>;
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
    region: options.region,
    credentials: options.credentials,
  });
  const send = service.send;

  /** One `GetParameters` call for up to 10 names, each with the references that ask for it. */
  const fetchBatch = async (
    region: string | undefined,
    batch: readonly (readonly [name: string, references: readonly SsmReference[]])[],
    signal: AbortSignal,
    results: Map<SecretReference, FetchedSecret | Error>,
  ): Promise<void> => {
    const names = batch.map(([name]) => name);
    try {
      const output = (await send(
        region,
        (s) => new s.GetParametersCommand({ Names: names, WithDecryption: true }),
        signal,
      )) as { Parameters?: Parameter[]; InvalidParameters?: string[] };
      // Asked for by ARN, a parameter answers with its name (its own account's) or its ARN (shared);
      // asked for with a version or label (`/app/db:3`), with its name and that selector apart.
      const found = new Map<string, Parameter>();
      for (const parameter of output.Parameters ?? []) {
        const selector = parameter.Selector ?? '';
        if (parameter.Name !== undefined) found.set(parameter.Name + selector, parameter);
        if (parameter.ARN !== undefined) found.set(parameter.ARN + selector, parameter);
      }
      for (const [name, references] of batch) {
        const parameter = found.get(name);
        for (const reference of references) {
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
      }
    } catch (error) {
      for (const [, references] of batch) {
        for (const reference of references) results.set(reference, wrapAwsError(error, reference.raw, 'ssm'));
      }
    }
  };

  return {
    close: () => service.close(),

    async fetch(reference: SecretReference, signal: AbortSignal): Promise<FetchedSecret> {
      if (reference.kind !== 'ssm') throw new TypeError(`cannot fetch ${reference.raw}`);
      try {
        const output = (await send(
          reference.region,
          (s) => new s.GetParameterCommand({ Name: reference.arn ?? reference.name, WithDecryption: true }),
          signal,
        )) as { Parameter?: Parameter };
        return toFetched(output.Parameter ?? {});
      } catch (error) {
        throw wrapAwsError(error, reference.raw, 'ssm');
      }
    },

    async fetchMany(references, signal) {
      const results = new Map<SecretReference, FetchedSecret | Error>();
      // Region → name (or ARN) → references: two references to one parameter share its slot in a batch.
      const byRegion = new Map<string | undefined, Map<string, SsmReference[]>>();
      for (const reference of references) {
        if (reference.kind !== 'ssm') continue;
        let byName = byRegion.get(reference.region);
        if (byName === undefined) {
          byName = new Map();
          byRegion.set(reference.region, byName);
        }
        const id = reference.arn ?? reference.name;
        const list = byName.get(id);
        if (list === undefined) byName.set(id, [reference]);
        else list.push(reference);
      }
      const batches: Promise<void>[] = [];
      for (const [region, byName] of byRegion) {
        const entries = [...byName];
        for (let i = 0; i < entries.length; i += batchSize) {
          batches.push(fetchBatch(region, entries.slice(i, i + batchSize), signal, results));
        }
      }
      await Promise.all(batches);
      return results;
    },

    async fetchPath(path, recursive, region, signal, retry) {
      const parameters: PathParameter[] = [];
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const page = async () => {
          try {
            return (await send(
              region,
              (s) =>
                new s.GetParametersByPathCommand({
                  Path: path,
                  Recursive: recursive,
                  WithDecryption: true,
                  MaxResults: 10,
                  ...(token === undefined ? {} : { NextToken: token }),
                }),
              signal,
            )) as { Parameters?: Parameter[]; NextToken?: string };
          } catch (error) {
            throw wrapAwsError(error, `ssm:${path}`, 'ssm');
          }
        };
        const output = retry === undefined ? await page() : await retry(page);
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
