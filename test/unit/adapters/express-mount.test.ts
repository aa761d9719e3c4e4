import { describe, expect, it } from 'vitest';
import { expressMountResolver } from '../../../src/adapters/express-mount.js';
import { type ExpressLike, expressLines, type Handler } from '../../support/express-lines.js';

// What a GraphQL server's middleware is to Express: a function that answers, with no route.
const graphql: Handler = () => {};
const json: Handler = () => {};

/** A router holding `graphql` at `path`, reached through a function of the app's: not in the tree. */
function throughFunction(express: ExpressLike, path: string): Handler {
  const router = express.Router();
  router.use(path, graphql);
  return (...args) => (router as unknown as Handler)(...args);
}

describe.each(expressLines)('expressMountResolver on %s', (_name, express) => {
  it("gives a middleware mounted on a path (Apollo's and Yoga's app.use('/graphql', …)) its mount's pattern, never the path", () => {
    const app = express();
    app.get('/graphql/schema', graphql); // a route on the same path, which the mount does not take
    app.use('/graphql', json, graphql);
    app.use('/t/:tenant/graphql', graphql);
    const resolve = expressMountResolver(app as object);
    expect(resolve('/graphql')).toBe('/graphql');
    expect(resolve('/t/acme/graphql')).toBe('/t/:tenant/graphql');
    expect(resolve('/t/beta/graphql')).toBe('/t/:tenant/graphql'); // the chain kept
    expect(resolve('/t/a%20b/graphql')).toBe('/t/:tenant/graphql');
  });

  it('follows routers, on a path or on /, and sub-apps (through req.app)', () => {
    const app = express();
    const versioned = express.Router();
    versioned.use('/graphql', graphql);
    app.use('/api/:version', versioned);
    const root = express.Router();
    root.use('/gql', graphql);
    app.use(root);
    const tenants = express();
    tenants.use('/graphql', graphql);
    app.use('/tenants/:tenant', tenants);
    const resolve = expressMountResolver(app as object);
    expect(resolve('/api/v1/graphql')).toBe('/api/:version/graphql');
    expect(resolve('/gql')).toBe('/gql');
    expect(resolve('/tenants/acme/graphql', tenants)).toBe('/tenants/:tenant/graphql');
    expect(resolve('/tenants/beta/graphql', tenants)).toBe('/tenants/:tenant/graphql');
  });

  it('finds a middleware mounted after the resolver was made', () => {
    const app = express();
    const resolve = expressMountResolver(app as object);
    app.use('/late/:id', graphql);
    expect(resolve('/late/7')).toBe('/late/:id');
  });

  it('gives no route to a path no mount of the tree matches (a router reached through a function of the app)', () => {
    const app = express();
    const inner = express.Router();
    inner.use('/graphql', graphql);
    app.use('/t/:tenant', (req: unknown, res: unknown, next: unknown) =>
      (inner as unknown as Handler)(req, res, next),
    );
    const resolve = expressMountResolver(app as object);
    expect(resolve('/t/acme/graphql')).toBeUndefined();
    expect(resolve('/elsewhere')).toBeUndefined();
  });

  it('keeps the pattern of every mount with no parameter of many in turn (a 401 in each of 40 routers) without walking the tree again', () => {
    const app = express();
    for (let i = 0; i < 40; i++) {
      const router = express.Router();
      router.use(graphql); // a login check that answers 401
      app.use(`/svc${i}`, router);
    }
    app.use('/t/:tenant/graphql', graphql);
    let walks = 0; // reads of the app's router: one per search of the tree
    const counted = new Proxy(app as object, {
      get(target, key, receiver) {
        if (key === 'router' || key === '_router') walks++;
        return Reflect.get(target, key, receiver);
      },
    });
    const resolve = expressMountResolver(counted);
    const paths = [...Array.from({ length: 40 }, (_, i) => `/svc${i}`), '/t/acme/graphql'];
    for (const path of paths) resolve(path);
    const searched = walks;
    for (let round = 0; round < 3; round++) for (const path of paths) resolve(path);
    expect(walks).toBe(searched);
    expect(resolve('/svc39')).toBe('/svc39');
    expect(resolve('/t/beta/graphql')).toBe('/t/:tenant/graphql');
  });

  it('gives up on paths no mount of the tree matches by their first segment, not for the whole app', () => {
    const app = express();
    app.use('/admin', throughFunction(express, '/login'));
    app.use('/graphql', graphql);
    const resolve = expressMountResolver(app as object);
    for (let i = 0; i < 100; i++) expect(resolve('/admin/login')).toBeUndefined();
    expect(resolve('/graphql')).toBe('/graphql');
  });

  it("still finds, after a client's misses under its first segment, a mount of the tree there: looked for once in 64 requests", () => {
    const app = express();
    // Its paths are never found.
    app.use('/t/:tenant', throughFunction(express, '/fn'));
    app.use('/t/:tenant/graphql', graphql);
    const resolve = expressMountResolver(app as object);
    for (let i = 0; i < 64; i++) expect(resolve(`/T/c${i}/fn`)).toBeUndefined();
    let found: string | undefined;
    for (let i = 0; i < 64 && found === undefined; i++) found = resolve('/t/acme/graphql');
    expect(found).toBe('/t/:tenant/graphql');
    // Found, it is kept: every request of it has its route from then on.
    expect(resolve('/t/beta/graphql')).toBe('/t/:tenant/graphql');
  });

  it("never gives the request's own path: a parameter's value with %2F, a RegExp mount, another case", () => {
    const app = express();
    app.use('/users/:id', graphql);
    app.use(/^\/re\/\d+/, graphql);
    app.use('/GraphQL', graphql);
    app.use('/T/:tenant/Api', graphql);
    const resolve = expressMountResolver(app as object);
    expect(resolve('/users/a%2Fb')).toBe('/users/:id'); // Express 4 decodes it to a/b: one segment still
    expect(resolve('/users/42')).toBe('/users/:id');
    expect(resolve('/re/123')).toBeUndefined(); // any number: no pattern the app wrote
    expect(resolve('/re/456')).toBeUndefined();
    expect(resolve('/GRAPHQL')).toBe('/GraphQL'); // Express matches mounts whatever the case
    expect(resolve('/graphql')).toBe('/GraphQL');
    expect(resolve('/t/acme/api')).toBe('/T/:tenant/Api');
  });
});
