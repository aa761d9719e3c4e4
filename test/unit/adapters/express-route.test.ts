import { describe, expect, it } from 'vitest';
import { expressRouteResolver, lostMountPath } from '../../../src/adapters/express-route.js';
import {
  type ExpressLike,
  type Handler,
  expressLines as lines,
  type RouterLike,
} from '../../support/express-lines.js';

const ok: Handler = () => {};

/** A router with one route at `path`, and that route (what Express puts on `req.route`). */
function routerWith(express: ExpressLike, path: string) {
  const router = express.Router();
  router.get(path, ok);
  return { router, route: router.stack.find((layer) => layer.route?.path === path)!.route! };
}

describe.each(lines)('expressRouteResolver on %s', (_name, express) => {
  function build() {
    const app = express();
    const lang = express.Router();
    lang.use(ok); // middleware only, on a mount that matches /api too
    app.use('/:lang', lang);
    const notes = routerWith(express, '/notes/:id');
    const health = routerWith(express, '/health');
    const api = express.Router();
    api.use(health.router); // mounted on / inside /api
    api.use('/tenants/:tenant', notes.router);
    app.use('/api', api);
    const byId = routerWith(express, '/profile');
    const me = routerWith(express, '/profile');
    app.use('/users/:id', byId.router);
    app.use('/users/me', me.router);
    const orgs = routerWith(express, '/x');
    app.use('/orgs/:org', orgs.router); // a literal segment before the parameter
    const settings = routerWith(express, '/y');
    app.use('/:region/settings', settings.router); // and after it
    const admin = express();
    admin.get('/users', ok);
    app.use('/admin/:org', admin); // a sub-app: Express does not expose its routers
    const adminUsers = admin as unknown as { _router?: RouterLike; router?: RouterLike };
    const adminRoute = (adminUsers._router ?? adminUsers.router)!.stack.find((l) => l.route)!.route!;
    return {
      app,
      admin,
      resolve: expressRouteResolver(app as object),
      routes: { notes, health, byId, me, orgs, settings, admin: adminRoute },
    };
  }

  it('writes each mounted router parameter back as :name', () => {
    const { resolve, routes } = build();
    expect(resolve('/api/tenants/acme', routes.notes.route)).toBe('/api/tenants/:tenant/notes/:id');
    expect(resolve('/api/tenants/a%20b', routes.notes.route)).toBe('/api/tenants/:tenant/notes/:id');
    expect(resolve('/api/tenants/other', routes.notes.route)).toBe('/api/tenants/:tenant/notes/:id'); // cached chain
  });

  it('follows the mounts that lead to the route, not the first that matches', () => {
    const { resolve, routes } = build();
    expect(resolve('/api', routes.health.route)).toBe('/api/health'); // not /:lang/health
    expect(resolve('/api', routes.health.route)).toBe('/api/health');
    expect(resolve('/users/me', routes.me.route)).toBe('/users/me/profile');
    expect(resolve('/users/42', routes.byId.route)).toBe('/users/:id/profile');
    expect(resolve('', routes.notes.route)).toBe('/notes/:id');
  });

  it("writes a parameter whose value holds %2F (one segment) as :name, never the request's path", () => {
    const app = express();
    const { router, route } = routerWith(express, '/x');
    app.use('/users/:id', router);
    const resolve = expressRouteResolver(app as object);
    expect(resolve('/users/a%2Fb', route)).toBe('/users/:id/x');
    expect(resolve('/users/a%2Fb%2Fc', route)).toBe('/users/:id/x');
  });

  it('places a value found in two segments where the parameter is', () => {
    const { resolve, routes } = build();
    expect(resolve('/orgs/orgs', routes.orgs.route)).toBe('/orgs/:org/x');
    expect(resolve('/settings/settings', routes.settings.route)).toBe('/:region/settings/y');
  });

  it('gives a route whose error an enclosing router answered (baseUrl put back) its last pattern', () => {
    const { resolve, routes } = build();
    // None known yet: as matched; and errors first do not stop the search.
    for (let i = 0; i < 20; i++) expect(resolve('/api', routes.notes.route)).toBe('/api/notes/:id');
    expect(resolve('/api/tenants/acme', routes.notes.route)).toBe('/api/tenants/:tenant/notes/:id');
    expect(resolve('/api', routes.notes.route)).toBe('/api/tenants/:tenant/notes/:id');
    expect(resolve('', routes.notes.route)).toBe('/api/tenants/:tenant/notes/:id'); // the app's own handler
    expect(resolve('/api/tenants/globex', routes.notes.route)).toBe('/api/tenants/:tenant/notes/:id');
    expect(resolve('', routes.health.route)).toBe('/health'); // never seen under a mount
  });

  it("finds the route's mount from the whole path when a handler mounted below its router answered", () => {
    const { resolve, routes } = build();
    // An error handler on /notes in the notes router, one on /tenants/:tenant/notes in api.
    for (const baseUrl of ['/api/tenants/acme/notes', '/api/tenants/globex/notes'])
      expect(resolve(baseUrl, routes.notes.route, undefined, '/1')).toBe('/api/tenants/:tenant/notes/:id');
    expect(resolve('/api/tenants/acme/notes/1', routes.notes.route, undefined, '/')).toBe(
      '/api/tenants/:tenant/notes/:id',
    );
    expect(resolve('/users/42/profile', routes.byId.route, undefined, '/?q=1')).toBe('/users/:id/profile');
    // The route's own baseUrl, `below` its path: as before.
    expect(resolve('/api/tenants/initech', routes.notes.route, undefined, '/notes/1')).toBe(
      '/api/tenants/:tenant/notes/:id',
    );
    // A route of the app's own router, a handler mounted on its path.
    const app = express();
    const top = routerWith(express, '/top/:id');
    app.use(top.router);
    expect(expressRouteResolver(app as object)('/top', top.route, undefined, '/3')).toBe('/top/:id');
  });

  it('reads array mounts by the path that matched', () => {
    const app = express();
    const both = routerWith(express, '/z');
    app.use(['/a/:x', '/:x/b'], both.router);
    const resolve = expressRouteResolver(app as object);
    expect(resolve('/a/1', both.route)).toBe('/a/:x/z');
    expect(resolve('/2/b', both.route)).toBe('/:x/b/z');
  });

  it('writes the parameters of a sub-app mount back as :name, found through req.app, past 16 tenants', () => {
    const { admin, resolve, routes } = build();
    for (let i = 0; i < 40; i++)
      expect(resolve(`/admin/o-${i}`, routes.admin, admin)).toBe('/admin/:org/users');
    // An error that left the sub-app (req.app is the app's again, the mount found from the URL).
    expect(resolve('/admin/o-41', routes.admin, undefined)).toBe('/admin/:org/users');
  });

  it('follows sub-apps within sub-apps, and finds a sub-app route that only ever fails once the sub-app served', () => {
    const app = express();
    const tenant = express();
    const project = express();
    project.get('/tasks/:task', ok);
    project.get('/fail/:task', ok);
    tenant.use('/p/:project', project);
    tenant.get('/home', ok);
    app.use('/t/:tenant', tenant);
    const routes = project as unknown as { _router?: RouterLike; router?: RouterLike };
    const stack = (routes._router ?? routes.router)!.stack;
    const [tasks, fail] = [
      stack.find((l) => l.route?.path === '/tasks/:task')!.route!,
      stack.find((l) => l.route?.path === '/fail/:task')!.route!,
    ];
    const resolve = expressRouteResolver(app as object);
    // Failing first: req.app is back to the app and no sub-app is known yet, so as matched.
    expect(resolve('/t/acme/p/p1', fail, app)).toBe('/t/acme/p/p1/fail/:task');
    expect(resolve('/t/acme/p/p1', tasks, project)).toBe('/t/:tenant/p/:project/tasks/:task');
    expect(resolve('/t/globex/p/p2', fail, app)).toBe('/t/:tenant/p/:project/fail/:task');
  });

  it('gives a sub-app route the path its mount matched when nothing leads to it (req.app unknown), /* once that varies', () => {
    const { resolve, routes } = build();
    expect(resolve('/admin/o-1', routes.admin)).toBe('/admin/o-1/users');
    expect(resolve('/admin/o-1', routes.admin, {})).toBe('/admin/o-1/users');
    expect(resolve('/admin/o-2', routes.admin, {})).toBe('/*/users');
    expect(resolve('/admin/o-1', routes.admin)).toBe('/*/users');
  });

  it('names a route under a router reached through a function of the app /* once its mount path varies', () => {
    const app = express();
    const { router, route } = routerWith(express, '/items/:id');
    app.use('/t/:tenant', (...args: unknown[]) => (router as unknown as Handler)(...args));
    const resolve = expressRouteResolver(app as object);
    const names = new Set(
      Array.from({ length: 50 }, (_, i) => resolve(`/t/tenant${i}`, route, app, '/items/1')),
    );
    expect([...names]).toEqual(['/t/tenant0/items/:id', '/*/items/:id']);
    // A mount path that never varies stays as matched, whatever its case (Express routes /T/ACME/
    // there by default).
    const fixed = expressRouteResolver(app as object);
    expect(fixed('/t/acme', route, app, '/items/1')).toBe('/t/acme/items/:id');
    expect(fixed('/T/ACME/', route, app, '/items/2')).toBe('/t/acme/items/:id');
    expect(fixed('/t/acme', route, app, '/items/3')).toBe('/t/acme/items/:id');
  });
});

describe('expressRouteResolver on Express 4 only', () => {
  const express = lines.find(([name]) => name === 'Express 4')![1];

  it('places constrained parameters of equal values, and writes a global RegExp mount /* (its lastIndex left as it was)', () => {
    const app = express();
    const teams = routerWith(express, '/x');
    app.use('/orgs/:org(\\d+)/teams/:team(\\d+)', teams.router);
    const versioned = routerWith(express, '/y');
    const mount = /^\/v\d+/g;
    mount.lastIndex = 3;
    app.use(mount, versioned.router);
    const resolve = expressRouteResolver(app as object);
    expect(resolve('/orgs/5/teams/5', teams.route)).toBe('/orgs/:org/teams/:team/x');
    const users = routerWith(express, '/w');
    app.use('/users/:id([0-9a-f]{24})', users.router); // a constraint no probe meets: placed by value
    expect(resolve('/users/5f1d7a3b9c8e4a2b1c0d9e8f', users.route)).toBe('/users/:id/w');
    const files = routerWith(express, '/v');
    app.use('/files/*', files.router); // a wildcard's segments make one `*`: paths are ids too
    expect(resolve('/files/a/b', files.route)).toBe('/files/*/v');
    expect(resolve('/files/c', files.route)).toBe('/files/*/v');
    const owned = routerWith(express, '/u');
    app.use('/owners/:owner/*', owned.router);
    expect(resolve('/owners/a/a/b', owned.route)).toBe('/owners/:owner/*/u');
    expect(resolve('/v2', versioned.route)).toBe('/*/y'); // not /v2/y: a path of the request's
    expect(mount.lastIndex).toBe(3);
  });
});

describe('lostMountPath', () => {
  it.each([
    ['/tenants/acme/items/1/boom', '/items/:id/boom', '/tenants/acme'],
    ['/tenants/acme/items/1/?x=/y', '/items/:id', '/tenants/acme'], // trailing slash and query left out
    ['/tenants/acme', '/', '/tenants/acme'], // a router's own root
    ['/items/1', '/items/:id', ''], // not mounted
    ['/', '/', ''],
    ['/a', '/a/b', ''], // the pattern is longer than the path: nothing is above it
    ['/t/acme/files/a/b', '/files/*path', ''], // a wildcard: its segments are not countable
    ['/t/acme/n/1', '/n{/:id}', ''], // an optional part
    ['/t/acme/n/1', '/n/:id?', ''], // Express 4's optional parameter
  ])('%s under the route %s: %j', (path, routePath, mount) => {
    expect(lostMountPath(path, routePath)).toBe(mount);
  });
});
