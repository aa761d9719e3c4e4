/**
 * The sub-apps of an Express app, learned from the requests they serve: `app.use(path, subApp)` puts
 * a closure in the parent's router, not the sub-app, so the route lookup (`express-route.ts`) cannot
 * reach a sub-app's routes from the app without them.
 */

/** Sub-apps learned, at most (a sub-app made per tenant is not a thing to follow). */
const maxSubApps = 64;
/** Apps above a request's app followed back, at most. */
const maxAncestors = 16;

/**
 * Sub-apps mounted with `app.use(path, subApp)`, by the app they are mounted in, learned from the
 * requests they served (`req.app`, whose `parent`s lead back to the app the kit serves): Express
 * keeps a closure in the parent's stack, not the sub-app. Kept, so that a route of a sub-app is
 * found when an error has left it (`req.app` is then the parent's again).
 */
export class SubApps {
  readonly #children = new Map<object, Set<object>>();
  #size = 0;

  /** Learns the apps from `app` down to `requestApp`, when `requestApp` is below `app`. */
  learn(app: object, requestApp: unknown): void {
    const ancestry: [parent: object, child: object][] = [];
    let child = requestApp;
    while (child !== app) {
      const parent: unknown = (child as { parent?: unknown } | undefined)?.parent;
      if (typeof child !== 'function' || typeof parent !== 'function') return; // not below `app`
      if (ancestry.length >= maxAncestors) return;
      ancestry.push([parent, child]);
      child = parent;
    }
    for (const [parent, sub] of ancestry) {
      let children = this.#children.get(parent);
      if (children?.has(sub) === true) continue;
      if (this.#size >= maxSubApps) return;
      children ??= new Set();
      children.add(sub);
      this.#children.set(parent, children);
      this.#size++;
    }
  }

  /** The sub-apps mounted in `app`, as learned so far. */
  of(app: object): Iterable<object> {
    return this.#children.get(app) ?? [];
  }

  /** Every sub-app learned. */
  all(): Iterable<object> {
    return [...this.#children.values()].flatMap((children) => [...children]);
  }
}
