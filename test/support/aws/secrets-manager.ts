import { randomBytes, randomUUID } from 'node:crypto';
import { AwsError } from './errors.js';
import { optionalString, type RequestBody, requiredString } from './input.js';

/** What {@link SecretsStore.put} and {@link SecretsStore.rotate} return. */
export interface SecretVersionInfo {
  readonly arn: string;
  readonly name: string;
  readonly versionId: string;
}

/** Options of {@link SecretsStore.put}. */
export interface PutSecretOptions {
  readonly description?: string;
  readonly kmsKeyId?: string;
  /** @default a random UUID */
  readonly versionId?: string;
}

interface SecretVersion {
  readonly id: string;
  readonly value: string | Uint8Array;
  readonly createdAt: Date;
  stages: string[];
}

interface Secret {
  readonly name: string;
  readonly arn: string;
  readonly description: string | undefined;
  readonly kmsKeyId: string | undefined;
  readonly createdAt: Date;
  readonly versions: SecretVersion[];
  changedAt: Date;
  rotatedAt: Date | undefined;
  lastAccessedAt: Date | undefined;
  deletedAt: Date | undefined;
}

/** JSON 1.1 carries timestamps as epoch seconds. */
function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The six random characters Secrets Manager appends to a secret's name in its ARN. */
function arnSuffix(): string {
  return Array.from(randomBytes(6), (byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join('');
}

/** The secrets of the AWS endpoint stand-in, and its Secrets Manager operations. */
export class SecretsStore {
  readonly #secrets = new Map<string, Secret>();
  readonly #arnPrefix: string;

  constructor(region: string, accountId: string) {
    this.#arnPrefix = `arn:aws:secretsmanager:${region}:${accountId}:secret:`;
  }

  /** Creates a secret whose first version is AWSCURRENT; throws when the name exists. */
  put(name: string, value: string | Uint8Array, options: PutSecretOptions = {}): SecretVersionInfo {
    if (this.#secrets.has(name)) throw new Error(`secret ${name} exists; use rotateSecret to add a version`);
    const now = new Date();
    const secret: Secret = {
      name,
      arn: `${this.#arnPrefix}${name}-${arnSuffix()}`,
      description: options.description,
      kmsKeyId: options.kmsKeyId,
      createdAt: now,
      changedAt: now,
      rotatedAt: undefined,
      lastAccessedAt: undefined,
      deletedAt: undefined,
      versions: [
        { id: options.versionId ?? randomUUID(), value: copy(value), createdAt: now, stages: ['AWSCURRENT'] },
      ],
    };
    this.#secrets.set(name, secret);
    return { arn: secret.arn, name, versionId: secret.versions[0]!.id };
  }

  /** Adds an AWSCURRENT version; the old AWSCURRENT becomes AWSPREVIOUS, the old AWSPREVIOUS loses it. */
  rotate(id: string, value: string | Uint8Array, versionId: string = randomUUID()): SecretVersionInfo {
    const secret = this.#find(id);
    if (secret === undefined) throw new Error(`no secret ${id} to rotate`);
    for (const version of secret.versions) {
      version.stages = version.stages
        .filter((stage) => stage !== 'AWSPREVIOUS')
        .map((stage) => (stage === 'AWSCURRENT' ? 'AWSPREVIOUS' : stage));
    }
    const now = new Date();
    secret.versions.push({ id: versionId, value: copy(value), createdAt: now, stages: ['AWSCURRENT'] });
    secret.changedAt = now;
    secret.rotatedAt = now;
    return { arn: secret.arn, name: secret.name, versionId };
  }

  /** Marks a secret for deletion: reads then fail with InvalidRequestException, as on AWS. */
  markDeleted(id: string): void {
    const secret = this.#find(id);
    if (secret === undefined) throw new Error(`no secret ${id} to delete`);
    secret.deletedAt = new Date();
  }

  /** Forgets a secret entirely: reads then fail with ResourceNotFoundException. */
  remove(id: string): void {
    const secret = this.#find(id);
    if (secret !== undefined) this.#secrets.delete(secret.name);
  }

  /** GetSecretValue: the AWSCURRENT version, or the one VersionId / VersionStage select. */
  getSecretValue(body: RequestBody): Record<string, unknown> {
    const secret = this.#require(requiredString(body, 'SecretId'));
    const versionId = optionalString(body, 'VersionId');
    const stage = optionalString(body, 'VersionStage');
    let version: SecretVersion | undefined;
    if (versionId !== undefined) {
      version = secret.versions.find((v) => v.id === versionId);
      if (version === undefined || (stage !== undefined && !version.stages.includes(stage))) {
        throw new AwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
        );
      }
    } else {
      const label = stage ?? 'AWSCURRENT';
      version = secret.versions.find((v) => v.stages.includes(label));
      if (version === undefined) {
        throw new AwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for staging label: ${label}`,
        );
      }
    }
    secret.lastAccessedAt = new Date();
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      ...(typeof version.value === 'string'
        ? { SecretString: version.value }
        : { SecretBinary: Buffer.from(version.value).toString('base64') }),
      VersionStages: [...version.stages],
      CreatedDate: epochSeconds(version.createdAt),
    };
  }

  /** DescribeSecret: metadata and the staged versions, for live and deleted secrets. */
  describeSecret(body: RequestBody): Record<string, unknown> {
    const secret = this.#find(requiredString(body, 'SecretId'));
    if (secret === undefined) throw new AwsError('ResourceNotFoundException');
    // Versions without a staging label are deprecated: AWS leaves them out of the map.
    const labelled = secret.versions.filter((v) => v.stages.length > 0);
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.description !== undefined && { Description: secret.description }),
      ...(secret.kmsKeyId !== undefined && { KmsKeyId: secret.kmsKeyId }),
      RotationEnabled: secret.rotatedAt !== undefined,
      ...(secret.rotatedAt !== undefined && { LastRotatedDate: epochSeconds(secret.rotatedAt) }),
      LastChangedDate: epochSeconds(secret.changedAt),
      ...(secret.lastAccessedAt !== undefined && { LastAccessedDate: epochSeconds(secret.lastAccessedAt) }),
      ...(secret.deletedAt !== undefined && { DeletedDate: epochSeconds(secret.deletedAt) }),
      VersionIdsToStages: Object.fromEntries(labelled.map((v) => [v.id, [...v.stages]])),
      CreatedDate: epochSeconds(secret.createdAt),
      Tags: [],
    };
  }

  /** A live secret by name, full ARN or partial ARN (without the random suffix). */
  #require(id: string): Secret {
    const secret = this.#find(id);
    if (secret === undefined) throw new AwsError('ResourceNotFoundException');
    if (secret.deletedAt !== undefined) {
      throw new AwsError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    return secret;
  }

  #find(id: string): Secret | undefined {
    const byName = this.#secrets.get(id);
    if (byName !== undefined) return byName;
    if (!id.startsWith('arn:')) return undefined;
    for (const secret of this.#secrets.values()) {
      if (secret.arn === id || `${this.#arnPrefix}${secret.name}` === id) return secret;
    }
    return undefined;
  }
}

function copy(value: string | Uint8Array): string | Uint8Array {
  return typeof value === 'string' ? value : Uint8Array.from(value);
}
