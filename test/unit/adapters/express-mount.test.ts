import { describe, expect, it } from 'vitest';
import { expressMountResolver } from '../../../src/adapters/express-mount.js';
import { expressLines, type Handler } from '../../support/express-lines.js';

// What a GraphQL server's middleware is to Express: a function that answers, with no route.
const graphql: Handler = () => {};
const json: Handler = () => {};

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
});
