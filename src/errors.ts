/**
 * Every error the kit throws is an {@link AppRunnerKitError} with a stable `code`. `instanceof` works
 * across the ESM and CJS builds and across two installed copies of the package, because it checks a
 * process-wide brand rather than the prototype chain.
 */

const BRAND = Symbol.for('apprunner-kit.error');

interface Branded {
  readonly [BRAND]: readonly string[];
}

function isBranded(value: unknown): value is Branded {
  return typeof value === 'object' && value !== null && Array.isArray((value as Partial<Branded>)[BRAND]);
}

/** Options accepted by every kit error. */
export interface AppRunnerKitErrorOptions {
  /** The error that caused this one. */
  cause?: unknown;
}

/**
 * Base class of every error the kit throws.
 *
 * @example
 * ```ts
 * try {
 *   await bootstrapAppRunner({ port: 70000 });
 * } catch (error) {
 *   if (error instanceof AppRunnerKitError) console.error(error.code); // 'ARK_CONFIG_INVALID'
 * }
 * ```
 */
export class AppRunnerKitError extends Error {
  /** Stable identifier of the failure kind, documented in the README. */
  static readonly code: string = 'ARK_ERROR';
  /** Stable identifier of the failure kind, documented in the README. */
  readonly code: string;
  declare readonly [BRAND]: readonly string[];

  constructor(message: string, options: AppRunnerKitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const kinds: string[] = [];
    for (let ctor: unknown = new.target; ctor !== Error && typeof ctor === 'function'; ) {
      if (Object.hasOwn(ctor, 'code')) kinds.push((ctor as typeof AppRunnerKitError).code);
      ctor = Object.getPrototypeOf(ctor);
    }
    this.code = (new.target as typeof AppRunnerKitError).code;
    this.name = new.target.name;
    Object.defineProperty(this, BRAND, { value: Object.freeze(kinds), enumerable: false });
  }

  /** True for any kit error of this class or a subclass, whichever copy of the kit created it. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of `instanceof`, a subclass too.
    return isBranded(value) && value[BRAND].includes(this.code);
  }
}

/**
 * An option or environment variable has a value the kit cannot accept. The message names the field,
 * the value received and what is accepted.
 */
export class ConfigurationError extends AppRunnerKitError {
  static override readonly code = 'ARK_CONFIG_INVALID';
  /** The option path or environment variable that was wrong, e.g. `shutdown.timeoutMs` or `PORT`. */
  readonly field: string;

  constructor(field: string, message: string, options?: AppRunnerKitErrorOptions) {
    super(message, options);
    this.field = field;
  }
}

/** `bootstrapAppRunner({ app })` was given something that is not a supported app. */
export class UnsupportedAppError extends AppRunnerKitError {
  static override readonly code: string = 'ARK_APP_UNSUPPORTED';
}

/**
 * `bootstrapAppRunner({ app })` was given a Fastify instance from inside one of its own plugins while
 * Fastify boots (the `fastify` a plugin receives, as fastify-cli's `app.js` does): Fastify is ready only
 * once that plugin returns, so the kit, which listens after `ready()`, would wait for itself until
 * Fastify's plugin timeout. Call it on the root instance, outside any plugin (fastify-cli: `fastify
 * eject`, then the kit in place of `closeWithGrace` and `listen` in `server.js`).
 */
export class FastifyBootingError extends UnsupportedAppError {
  static override readonly code = 'ARK_FASTIFY_BOOTING';
}

/** An optional peer dependency the requested feature needs is not installed. */
export class MissingDependencyError extends AppRunnerKitError {
  static override readonly code = 'ARK_DEPENDENCY_MISSING';
  /** The npm package that is missing. */
  readonly packageName: string;

  constructor(packageName: string, feature: string, options?: AppRunnerKitErrorOptions) {
    super(
      `${feature} needs the package "${packageName}", which is not installed. Install it with: npm install ${packageName}`,
      options,
    );
    this.packageName = packageName;
  }
}

/** A function of the kit was called with an argument it cannot accept. */
export class InvalidArgumentError extends AppRunnerKitError {
  static override readonly code = 'ARK_ARGUMENT_INVALID';
}

/** The server could not listen on the configured host and port. */
export class ListenError extends AppRunnerKitError {
  static override readonly code = 'ARK_LISTEN_FAILED';
}

/** A secret reference cannot be parsed; the message quotes it and says what is wrong. */
export class SecretReferenceError extends AppRunnerKitError {
  static override readonly code = 'ARK_SECRET_REFERENCE_INVALID';
  /** The reference as written. */
  readonly reference: string;

  constructor(reference: string, why: string, options?: AppRunnerKitErrorOptions) {
    super(`Invalid secret reference "${reference}": ${why}.`, options);
    this.reference = reference;
  }
}

/** `secrets.get(name)` or `getJson(name)` for a name that was not declared at start-up. */
export class SecretNotDeclaredError extends AppRunnerKitError {
  static override readonly code = 'ARK_SECRET_NOT_DECLARED';
}

/** Options of the errors about one secret. */
export interface SecretErrorOptions extends AppRunnerKitErrorOptions {
  /** The reference that failed. */
  reference: string;
  /** The AWS error code (`AccessDeniedException`, `ParameterNotFound`, …) when AWS answered one. */
  awsCode?: string | undefined;
}

/** Loading a secret failed; `reference` and `awsCode` say which and why. */
export class SecretFetchError extends AppRunnerKitError {
  static override readonly code: string = 'ARK_SECRET_FETCH_FAILED';
  readonly reference: string;
  readonly awsCode: string | undefined;

  constructor(message: string, options: SecretErrorOptions) {
    super(message, options);
    this.reference = options.reference;
    this.awsCode = options.awsCode;
  }
}

/** The secret or parameter does not exist (or not in that region, version or stage). */
export class SecretNotFoundError extends SecretFetchError {
  static override readonly code = 'ARK_SECRET_NOT_FOUND';
}

/** AWS denied the read: the instance role lacks a permission, or the KMS key refuses to decrypt. */
export class SecretAccessDeniedError extends SecretFetchError {
  static override readonly code = 'ARK_SECRET_ACCESS_DENIED';
}

/** AWS did not answer in time, or could not be reached. */
export class SecretTimeoutError extends SecretFetchError {
  static override readonly code = 'ARK_SECRET_TIMEOUT';
}

/** A loaded value could not be turned into what was asked: not JSON, or without the JSON key. */
export class SecretTransformError extends AppRunnerKitError {
  static override readonly code = 'ARK_SECRET_TRANSFORM_FAILED';
}

/**
 * Required secrets could not be loaded at start-up; `failures` holds one error per reference, each
 * with its cause. The message names each reason once, with its fix, after the secrets it stopped.
 */
export class SecretsStartupError extends AppRunnerKitError {
  static override readonly code = 'ARK_SECRETS_STARTUP_FAILED';
  /** One error per reference that failed, each with its AWS error code and its cause. */
  declare readonly failures: readonly AppRunnerKitError[];

  constructor(message: string, failures: readonly AppRunnerKitError[]) {
    // Not a `cause`, nor an enumerable field: Node prints an uncaught error with every enumerable
    // field and its cause, each with its stack, and two secrets failing without credentials printed
    // 96 lines on stderr, a log event each, for the 3 lines of the message. The kit's line of the
    // failed start carries them (`err.failures`).
    super(message);
    Object.defineProperty(this, 'failures', { value: failures, enumerable: false });
  }
}

/**
 * The process was told to shut down (SIGTERM, `runtime.shutdown()`) before the start-up finished: the
 * server never listened. Thrown by `bootstrapAppRunner` once the shutdown completed, with
 * `shutdown.exit: false` (otherwise the process has exited by then).
 */
export class StartAbortedError extends AppRunnerKitError {
  static override readonly code = 'ARK_START_ABORTED';
}

/** Every error class the kit exports, for documentation and tests. */
export const errorClasses = [
  AppRunnerKitError,
  ConfigurationError,
  UnsupportedAppError,
  FastifyBootingError,
  MissingDependencyError,
  InvalidArgumentError,
  ListenError,
  SecretReferenceError,
  SecretNotDeclaredError,
  SecretFetchError,
  SecretNotFoundError,
  SecretAccessDeniedError,
  SecretTimeoutError,
  SecretTransformError,
  SecretsStartupError,
  StartAbortedError,
] as const;
