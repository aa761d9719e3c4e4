import {
  AppRunnerKitError,
  SecretAccessDeniedError,
  SecretFetchError,
  SecretNotFoundError,
  SecretTimeoutError,
} from '../../errors.js';

import { failedConnectionCodes, isThrottling } from '../throttling.js';

const notFound = new Set([
  'ResourceNotFoundException',
  'ParameterNotFound',
  'ParameterVersionNotFound',
  'InvalidRequestException',
]);
const denied = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'DecryptionFailure',
  'KMSAccessDeniedException',
]);
/** The credentials were refused: about the caller, not about the value (no permission to grant). */
const credentialsRefused = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
]);
/** AWS did not answer: the connection failed, or the host name did not resolve. */
const unreachable: ReadonlySet<string> = new Set([...failedConnectionCodes, 'ENOTFOUND']);

function describe(error: unknown): { name: string; code: string | undefined; message: string } {
  const e = error as { name?: string; code?: string; message?: string; $metadata?: unknown };
  return { name: e?.name ?? 'Error', code: e?.code, message: e?.message ?? String(error) };
}

/** The role whose permissions the app's AWS calls use, on each platform the kit runs on. */
const appRole =
  "the app's role (App Runner's instance role, the ECS task role, or the role of the EKS pod's service account through IRSA or EKS Pod Identity)";

function permission(service: 'secretsmanager' | 'ssm'): string {
  return service === 'secretsmanager'
    ? `Grant ${appRole} secretsmanager:GetSecretValue on this secret (and kms:Decrypt on its key when it is encrypted with a customer-managed KMS key).`
    : `Grant ${appRole} ssm:GetParameter and ssm:GetParameters (ssm:GetParametersByPath for a prefix) on this parameter (and kms:Decrypt for a SecureString encrypted with a customer-managed key).`;
}

/**
 * Turns an AWS SDK error into the kit's error for `reference`, keeping the AWS error code and adding
 * the fix: the missing permission, the VPC egress, the region or credentials to set. A kit error (a
 * missing SDK package) is returned as it is.
 */
export function wrapAwsError(
  error: unknown,
  reference: string,
  service: 'secretsmanager' | 'ssm',
): AppRunnerKitError {
  if (error instanceof AppRunnerKitError) return error;
  const { name, code, message } = describe(error);
  const options = { reference, awsCode: name, cause: error };
  if (notFound.has(name)) {
    const fix =
      name === 'InvalidRequestException'
        ? 'Secrets Manager answers so for a secret scheduled for deletion: restore it (RestoreSecret), or name another.'
        : 'Check the name, the version or stage, and the region.';
    return new SecretNotFoundError(`${reference}: ${name} (${message}). ${fix}`, options);
  }
  if (denied.has(name)) {
    return new SecretAccessDeniedError(`${reference}: ${name} (${message}). ${permission(service)}`, options);
  }
  if (credentialsRefused.has(name)) {
    return new SecretFetchError(
      `${reference}: ${name} (${message}). AWS refused the credentials, not the access: a role's (instance role, task role, IRSA, EKS Pod Identity) are renewed by the SDK; locally, renew the session (AWS_PROFILE, aws sso login) and check the clock.`,
      options,
    );
  }
  if (name === 'TimeoutError' || name === 'AbortError' || (code !== undefined && unreachable.has(code))) {
    return new SecretTimeoutError(
      `${reference}: ${service === 'secretsmanager' ? 'Secrets Manager' : 'SSM'} did not answer (${code ?? name}: ${message}). ` +
        'With an App Runner VPC connector, outbound traffic to AWS needs a NAT gateway or VPC interface endpoints.',
      { ...options, awsCode: code ?? name },
    );
  }
  if (isThrottling(error)) {
    return new SecretFetchError(
      `${reference}: ${name} (${message}). AWS throttled the call: its request quota is shared by every instance in the account and region${
        service === 'ssm'
          ? ' (SSM: 40 calls a second by default; its higher throughput setting raises that)'
          : ''
      }.`,
      options,
    );
  }
  if (name === 'CredentialsProviderError') {
    return new SecretFetchError(
      `${reference}: no AWS credentials (${message}). Give the app a role: on App Runner an instance role, on ECS a task role (taskRoleArn), on EKS a role for the pod's service account (IRSA or EKS Pod Identity); locally, set AWS_PROFILE or use env: and file: references.`,
      options,
    );
  }
  if (/region is missing/i.test(message)) {
    return new SecretFetchError(
      `${reference}: no AWS region. Set AWS_REGION (or AWS_DEFAULT_REGION), or use a full ARN.`,
      options,
    );
  }
  return new SecretFetchError(`${reference}: ${name} (${message}).`, options);
}
