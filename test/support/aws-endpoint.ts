/**
 * The AWS endpoint stand-ins: Secrets Manager and SSM Parameter Store over AWS JSON 1.1 on
 * 127.0.0.1, for the real `@aws-sdk/client-secrets-manager` and `@aws-sdk/client-ssm` clients; and
 * S3 (REST XML, path-style), which checks every SigV4 signature, presigned URLs' too.
 * The implementation lives in `./aws/`.
 */
export {
  type AwsEndpoint,
  type AwsEndpointOptions,
  type AwsFault,
  type AwsOperation,
  type CredentialScope,
  type RecordedAwsRequest,
  startAwsEndpoint,
} from './aws/endpoint.js';
export { type AwsClientEnv, awsClientEnv, noAwsCredentials } from './aws/env.js';
export type { AwsErrorSpec, KnownAwsErrorCode } from './aws/errors.js';
export { type RecordedS3Request, type S3Endpoint, type S3Signature, startS3Endpoint } from './aws/s3.js';
export type { PutSecretOptions, SecretVersionInfo } from './aws/secrets-manager.js';
export type { ParameterType, ParameterVersionInfo, PutParameterOptions } from './aws/ssm.js';
export { applyEnv } from './env.js';
