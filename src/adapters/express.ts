/**
 * `apprunner-kit/express`: the Express integration.
 *
 * The dedicated Express adapter is not available in this version yet; see the README for what
 * `bootstrapAppRunner({ app })` already does with a Express app. The request context accessor is
 * re-exported so that Express code can import everything it needs from this entry point.
 */
import { AdapterUnavailableError } from '../errors.js';

export { getRequestContext, type RequestContext } from '../http/context.js';

/**
 * The Express integration for manual wiring.
 *
 * @throws AdapterUnavailableError (`ARK_ADAPTER_UNAVAILABLE`) in this version.
 */
export function apprunnerExpress(): never {
  throw new AdapterUnavailableError(
    'apprunner-kit/express is not available in this version of apprunner-kit yet. Use ' +
      'bootstrapAppRunner({ app }) from "apprunner-kit" (see the README for what it supports today).',
  );
}
