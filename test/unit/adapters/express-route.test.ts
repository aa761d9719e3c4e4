import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { expressRouteResolver } from '../../../src/adapters/express-route.js';

// Express 4 is the devDependency alias `express4`; both are CommonJS.
const require = createRequire(import.meta.url);
type Handler = (...args: unknown[]) => void;
interface RouterLike {
  use(...args: unknown[]): unknown;
  get(path: string, handler: Handler): unknown;
}
interface ExpressLike {
  (): RouterLike;
  Router(): RouterLike;
}
const lines: [string, ExpressLike][] = [
  ['Express 5', require('express') as ExpressLike],
  ['Express 4', require('express4') as ExpressLike],
];
const ok: Handler = () => {};

describe.each(lines)('expressRouteResolver on %s', (_name, express) => {
  function build() {
    const app = express();
    const notes = express.Router();
    notes.get('/notes/:id', ok);
    const api = express.Router();
    api.get('/health', ok);
    api.use('/tenants/:tenant', notes);
    app.use('/api', api);
    const orgs = express.Router();
    orgs.get('/x', ok);
    app.use('/orgs/:org', orgs); // a literal segment before the parameter
    const settings = express.Router();
    settings.get('/y', ok);
    app.use('/:region/settings', settings); // and after it
    const shops = express.Router();
    shops.get('/items', ok);
    const outer = express.Router();
    outer.use('/shops/:shop', shops);
    app.use(outer); // a router mounted on /, with a parameter mount inside
    const admin = express();
    admin.get('/users', ok);
    app.use('/admin/:org', admin); // a sub-app: Express does not expose its routers
    return expressRouteResolver(app as object);
  }

  it('writes each mounted router parameter back as :name', () => {
    const resolve = build();
    expect(resolve('/api/tenants/acme', '/notes/:id')).toBe('/api/tenants/:tenant/notes/:id');
    expect(resolve('/api/tenants/a%20b', '/notes/:id')).toBe('/api/tenants/:tenant/notes/:id');
    expect(resolve('/shops/s-1', '/items')).toBe('/shops/:shop/items');
  });

  it('keeps literal mounts, and a request no router matched, as they are', () => {
    const resolve = build();
    expect(resolve('/api', '/health')).toBe('/api/health');
    expect(resolve('/api', '/health')).toBe('/api/health'); // remembered
    expect(resolve('', '/notes/:id')).toBe('/notes/:id');
  });

  it('places a value found in two segments where the parameter is', () => {
    const resolve = build();
    expect(resolve('/orgs/orgs', '/x')).toBe('/orgs/:org/x');
    expect(resolve('/settings/settings', '/y')).toBe('/:region/settings/y');
  });

  it('gives a mounted sub-app the path it matched, as before (its routers are not exposed)', () => {
    expect(build()('/admin/o-1', '/users')).toBe('/admin/o-1/users');
  });
});
