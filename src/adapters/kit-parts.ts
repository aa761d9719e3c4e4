// The parts of the kit an adapter is given, as the public API names them. Interfaces, not the classes:
// a class re-exported from the declaration bundle reads as a value (`new RequestScope()` would compile,
// then fail), and a type alias of a class is not a name TypeScript can print in a consumer's
// declarations (an inferred `kit.scope` would be "not portable", TS2883).
import type { HealthEndpoints as HealthEndpointsClass } from '../health/endpoints.js';
import type { LoadShedder as LoadShedderClass } from '../http/load-shedder.js';
import type { RequestScope as RequestScopeClass } from '../http/request-scope.js';

/** The health endpoints the kit answers in front of the app (`runtime` hands them to adapters). */
export interface HealthEndpoints extends HealthEndpointsClass {}
/** The load shedder of `loadShedding` (`runtime` hands it to adapters). */
export interface LoadShedder extends LoadShedderClass {}
/** The request scope the adapters run each request in. */
export interface RequestScope extends RequestScopeClass {}
