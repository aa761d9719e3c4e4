/** The environment that points the AWS SDK v3 at a local endpoint, with static test credentials. */
export interface AwsClientEnv {
  readonly AWS_ENDPOINT_URL: string;
  readonly AWS_ENDPOINT_URL_SECRETS_MANAGER: string;
  readonly AWS_ENDPOINT_URL_SSM: string;
  readonly AWS_ACCESS_KEY_ID: 'test';
  readonly AWS_SECRET_ACCESS_KEY: 'test';
  readonly AWS_REGION: string;
  readonly AWS_EC2_METADATA_DISABLED: 'true';
  readonly [name: string]: string;
}

/**
 * The env for a process (or `process.env`) whose AWS clients must reach `endpoint` and nothing else:
 * endpoint URLs for both services, static credentials (so no provider probes 169.254.169.254), a region.
 */
export function awsClientEnv(endpoint: { readonly url: string; readonly region?: string }): AwsClientEnv {
  return {
    AWS_ENDPOINT_URL: endpoint.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint.url,
    AWS_ENDPOINT_URL_SSM: endpoint.url,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: endpoint.region ?? 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/**
 * The variables that would give the AWS SDK's default chain credentials, emptied (files that do not
 * exist for the profile's), with the instance metadata service off: a provider chain that finds
 * none and leaves 127.0.0.1 for nothing. Apply with `applyEnv`, or as a child process's env.
 */
export const noAwsCredentials = {
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
  AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
  AWS_CONTAINER_AUTHORIZATION_TOKEN: undefined,
  AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
  AWS_ROLE_ARN: undefined,
} as const satisfies Readonly<Record<string, string | undefined>>;
