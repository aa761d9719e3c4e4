/**
 * PostgreSQL and Redis for the tests, from Debian packages: dedicated instances a test may stop,
 * crash and pause, the shared pair the global setup starts, and the helpers that skip or fail.
 */
export {
  ensureServicesInstalled,
  findPostgresBinDir,
  findRedisServer,
  type ServiceBinaries,
} from './binaries.js';
export type { ServiceInstance, ServiceKind } from './instance.js';
export { ProcessStartError, SERVICES_DIR, type ServiceState } from './managed-process.js';
export { type PostgresOptions, startPostgres } from './postgres.js';
export { type RedisOptions, startRedis } from './redis.js';
export {
  isCI,
  type RequireOptions,
  requirePostgres,
  requireRedis,
  SERVICE_URL_ENV,
  type ServiceRequirement,
  startSharedServices,
} from './shared.js';
