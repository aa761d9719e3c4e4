/**
 * Where the runtime is in its life: `starting` until the server listens, `ready` while serving,
 * `draining` from the first shutdown signal, `stopped` once everything is closed.
 */
export type LifecycleState = 'starting' | 'ready' | 'draining' | 'stopped';
