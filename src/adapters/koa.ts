/**
 * `apprunner-kit/koa`: the Koa integration.
 *
 * The dedicated Koa adapter is not available in this version yet; see the README for what
 * `bootstrapAppRunner({ app })` already does with a Koa app. The request context accessor is
 * re-exported so that Koa code can import everything it needs from this entry point.
 */
import { AdapterUnavailableError } from '../errors.js';

export { getRequestContext, type RequestContext } from '../http/context.js';

/**
 * The Koa integration for manual wiring.
 *
 * @throws AdapterUnavailableError (`ARK_ADAPTER_UNAVAILABLE`) in this version.
 */
export function apprunnerKoa(): never {
  throw new AdapterUnavailableError(
    'apprunner-kit/koa is not available in this version of apprunner-kit yet. Use ' +
      'bootstrapAppRunner({ app }) from "apprunner-kit" (see the README for what it supports today).',
  );
}
