/** An AWS error as the JSON 1.1 protocol carries it: `__type` in the body and `x-amzn-errortype`. */
export interface AwsErrorSpec {
  /** The error code, e.g. `ResourceNotFoundException`; the SDK names its exception after it. */
  readonly type: string;
  /** HTTP status. @default the code's usual status, else 400 */
  readonly status?: number;
  /** @default the code's usual message */
  readonly message?: string;
}

/** Error codes the stand-in knows, with the status and message AWS answers them with. */
export const KNOWN_AWS_ERRORS = {
  ThrottlingException: { status: 400, message: 'Rate exceeded' },
  InternalFailure: { status: 500, message: 'An internal error has occurred' },
  ServiceUnavailable: { status: 503, message: 'Service is unavailable' },
  AccessDeniedException: { status: 400, message: 'User is not authorized to perform this action' },
  UnrecognizedClientException: {
    status: 400,
    message: 'The security token included in the request is invalid.',
  },
  ExpiredTokenException: { status: 400, message: 'The security token included in the request is expired' },
  ValidationException: { status: 400, message: 'Validation failed' },
  SerializationException: { status: 400, message: 'Unable to parse the request' },
  UnknownOperationException: { status: 400, message: 'Unknown operation' },
  MissingAuthenticationTokenException: { status: 403, message: 'Missing Authentication Token' },
  InvalidSignatureException: { status: 403, message: 'The request signature does not match.' },
  // Secrets Manager
  ResourceNotFoundException: { status: 400, message: "Secrets Manager can't find the specified secret." },
  InvalidRequestException: {
    status: 400,
    message: 'The request is not valid for the current state of the secret.',
  },
  InvalidParameterException: { status: 400, message: 'A parameter value is not valid.' },
  DecryptionFailure: { status: 400, message: "Secrets Manager can't decrypt the protected secret text." },
  InternalServiceError: { status: 500, message: 'An error occurred on the server side.' },
  // SSM
  ParameterNotFound: { status: 400, message: 'Parameter not found.' },
  ParameterVersionNotFound: { status: 400, message: 'Parameter version not found.' },
  InvalidKeyId: { status: 400, message: 'The query key ID is not valid.' },
  InvalidNextToken: { status: 400, message: 'The specified token is not valid.' },
  InternalServerError: { status: 500, message: 'An error occurred on the server side.' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A code from {@link KNOWN_AWS_ERRORS}. */
export type KnownAwsErrorCode = keyof typeof KNOWN_AWS_ERRORS;

/** Thrown by an operation handler; the server turns it into an AWS-shaped error response. */
export class AwsError extends Error {
  override readonly name = 'AwsError';
  readonly type: string;
  readonly status: number;

  constructor(type: string, message?: string, status?: number) {
    const known = (KNOWN_AWS_ERRORS as Record<string, { status: number; message: string }>)[type];
    super(message ?? known?.message ?? type);
    this.type = type;
    this.status = status ?? known?.status ?? 400;
  }

  /** The error for an injected fault: a known code or a full spec. */
  static from(error: KnownAwsErrorCode | AwsErrorSpec): AwsError {
    return typeof error === 'string'
      ? new AwsError(error)
      : new AwsError(error.type, error.message, error.status);
  }
}
