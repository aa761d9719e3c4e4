/**
 * The value `target` keeps under an own symbol described `description`: where Node and Fastify keep
 * internals they do not export (`http.server.connections`, `fastify.options`). `undefined` when no such
 * symbol is there (another version keeps it otherwise).
 */
export function symbolSlot(target: object, description: string): unknown {
  const key = Object.getOwnPropertySymbols(target).find((s) => s.description === description);
  return key === undefined ? undefined : (target as Record<symbol, unknown>)[key];
}
