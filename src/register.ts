/**
 * `apprunner-kit/register`: the preload that gives datastore and cache calls their spans.
 *
 * ```sh
 * node --import apprunner-kit/register app.mjs    # ESM
 * node --require apprunner-kit/register app.cjs   # CommonJS
 * ```
 *
 * It registers OpenTelemetry's instrumentation of each client installed beside the app — `pg`,
 * `mysql2`, `ioredis`, `redis` — whose instrumentation package (`@opentelemetry/instrumentation-pg`,
 * …) is installed too, before the app imports the client: an ESM app cannot patch a module after
 * `import`. The spans start once `bootstrapAppRunner` runs with tracing in OpenTelemetry mode, as
 * children of the request's span, through the kit's exporter; in X-Ray SDK mode or with tracing
 * off, bootstrap unpatches the clients again. The tracing start-up line lists what was registered.
 * The preload never throws: what it cannot do is reported by that line.
 *
 * @packageDocumentation
 */
import { preloadInstrumentations } from './tracing/otel/preload.js';

/** `esm` or `cjs`: which build of the preload this is (tsup defines it per output format). */
declare const __APPRUNNER_KIT_FORMAT__: 'esm' | 'cjs';

preloadInstrumentations(__APPRUNNER_KIT_FORMAT__);
