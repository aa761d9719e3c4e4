/**
 * `apprunner-kit/fastify`: the Fastify 5 adapter. `bootstrapAppRunner({ app })` picks it for a
 * Fastify instance by itself; import it from here to name it explicitly (`adapter: fastifyAdapter`),
 * and `createLogger` to make the kit's logger Fastify's (`loggerInstance`).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import { UnsupportedAppError } from '../errors.js';
import { cutSlot, getMutableRequestContext } from '../http/context.js';
import { contextOfResponse, type RequestScope } from '../http/request-scope.js';
import { symbolSlot } from '../internal/symbol-slot.js';
import { type AppAdapter, inFront, isFunction, serveInFront } from './adapter.js';
import { assertNotBooting, explainBootTimeout } from './fastify-boot.js';
import { standInFront } from './stand-in-front.js';

export { getRequestContext, type RequestContext, type RequestFieldValue } from '../http/context.js';
export { reportRequestError } from '../http/request-errors.js';
export { addRequestFields } from '../http/request-fields.js';
export { setRequestRoute } from '../http/request-route.js';
export { flushRequestLogs } from '../logging/held-lines.js';
export { type CreateLoggerOptions, createLogger } from '../logging/logger.js';

type Done = (error?: Error) => void;

interface FastifyRequestLike {
  raw: IncomingMessage;
  id?: unknown;
  routeOptions?: { url?: unknown };
}

interface FastifyReplyLike {
  raw: ServerResponse;
  request?: FastifyRequestLike;
  hijack(): unknown;
}

interface FastifyInstanceLike {
  addHook(
    name: 'onRequest',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: Done) => void,
  ): unknown;
  addHook(
    name: 'onError',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike, error: unknown, done: Done) => void,
  ): unknown;
}

/** What the kit needs of a Fastify instance (typed loosely, so that any Fastify 5 instance fits). */
export interface FastifyLikeApp {
  register: (...args: never[]) => unknown;
  addHook: (...args: never[]) => unknown;
  ready: (...args: never[]) => unknown;
  close: (...args: never[]) => unknown;
  /** Its server: of `node:http`, `node:https`, or `node:http2` (`http2: true`). */
  readonly server: Server | Http2Server | Http2SecureServer;
}

interface FastifyApp {
  register(plugin: (instance: FastifyInstanceLike, options: unknown, done: Done) => void): unknown;
  readonly genReqId?: unknown;
  setGenReqId?(generate: (req: IncomingMessage) => string): unknown;
  readonly initialConfig?: { readonly requestIdHeader?: unknown };
  /** Fastify's request handler, which it gave its server as a `request` listener. */
  readonly routing?: unknown;
  ready(): PromiseLike<unknown>;
  close(): PromiseLike<unknown>;
  readonly server: Server | Http2Server | Http2SecureServer;
}

/**
 * Where the kit leaves Fastify's request on the raw one, whose route it reads when the request
 * finishes. Shared by both builds: the wrapper of `send` below, made once per process, sets it too.
 */
const fastifyRequest = Symbol.for('apprunner-kit.fastifyRequest');

/**
 * The options the app gave Fastify, which Fastify keeps (under a symbol it does not export); `undefined`
 * when a version keeps them otherwise.
 */
function givenOptions(app: FastifyApp): { readonly genReqId?: unknown } | undefined {
  const options = symbolSlot(app, 'fastify.options');
  return typeof options === 'object' && options !== null ? options : undefined;
}

/**
 * Where the kit's listener leaves Fastify's id of a request it let through, as the generator made it
 * (an app's `genReqId` may return a number): present only on such a request.
 */
const fastifyIdSlot = Symbol('apprunner-kit.fastifyRequestId');

type KitRequest = IncomingMessage & {
  [fastifyRequest]?: FastifyRequestLike;
  [fastifyIdSlot]?: unknown;
  upgrade?: boolean;
};

type GenerateId = (req: IncomingMessage) => string;

/**
 * Makes Fastify's `request.id` (and so the `reqId` of `request.log` lines) the kit's request id, unless
 * the app gave Fastify a `genReqId`. Each request's id is then a well-formed id it brought in the kit's
 * request id header, else a UUID; with `requestIdHeader`, Fastify takes that header first, as it is
 * (the kit checks it in the scope). Either way Fastify's generator now hands back the id the kit's
 * listener already made for the request (see {@link fastifyIdSlot}), so that it is made once: the
 * kit's scope begins before Fastify names the request. Returns Fastify's generator, as Fastify calls
 * it; `undefined` when this Fastify cannot be given one.
 */
function takeRequestIds(app: FastifyApp, scope: RequestScope, headerSet: boolean): GenerateId | undefined {
  const generator = app.genReqId;
  if (typeof app.setGenReqId !== 'function' || typeof generator !== 'function') return undefined;
  // The options tell whether the app gave a generator (with requestIdHeader, Fastify wraps it in a
  // function of its own; a bundler may rename Fastify's). A version that keeps them elsewhere: by the
  // name of Fastify's own, which only a generator not wrapped still has.
  const options = givenOptions(app);
  const fastifys =
    options !== undefined
      ? options.genReqId === undefined
      : !headerSet && generator.name === 'defaultGenReqId';
  const make: GenerateId = fastifys ? (req) => scope.requestIdFor(req) : (generator as GenerateId);
  app.setGenReqId((req) =>
    fastifyIdSlot in req ? ((req as KitRequest)[fastifyIdSlot] as string) : make(req),
  );
  const generate = app.genReqId;
  return typeof generate === 'function' ? (generate as GenerateId) : undefined;
}

/**
 * Wraps the root's `setGenReqId`, which encapsulated instances inherit, so that a generator a plugin
 * sets for its own routes makes the ids of their requests that the kit's listener let through: the
 * listener names a request with the root's generator before Fastify routes it, and Fastify then asks
 * the plugin's; the kit takes that id as the request id, as it takes the root's (when well formed and
 * the caller sent none in the kit's header), so that `request.id` stays the `requestId` and the
 * echoed id. Costs nothing to a request of another route. The root's own generator set during
 * `ready()` is left to the listener's check. Returns the function that puts `setGenReqId` back.
 */
function followPluginGenerators(app: FastifyApp, scope: RequestScope): () => void {
  const setGenReqId = app.setGenReqId;
  if (typeof setGenReqId !== 'function') return () => {};
  const following = function setGenReqIdFollowed(this: unknown, generate: unknown): unknown {
    if (this === app || typeof generate !== 'function')
      // biome-ignore lint/complexity/noArguments: Fastify's own arity, whatever it takes
      return Reflect.apply(setGenReqId, this, arguments);
    return setGenReqId.call(this, (req) => {
      const id: unknown = generate(req);
      if (fastifyIdSlot in req) {
        const context = getMutableRequestContext();
        if (context !== undefined) scope.takeLaterRequestId(context, req, id);
      }
      return id as string;
    });
  };
  (app as { setGenReqId?: unknown }).setGenReqId = following;
  return () => {
    if (app.setGenReqId === following) (app as { setGenReqId?: unknown }).setGenReqId = setGenReqId;
  };
}

/** Marks Fastify's `reply.send` once wrapped (shared by both builds, and by every kit in the process). */
const wrapsSend = Symbol.for('apprunner-kit.fastifySend');

type Send = ((this: FastifyReplyLike, payload?: unknown) => unknown) & { [wrapsSend]?: true };

/**
 * Wraps `send` where Fastify's replies inherit it (its `Reply.prototype`, shared by every instance),
 * once; `from` is a reply or a prototype of replies. The wrapper notes Fastify's request on the raw
 * one when the kit's `onRequest` hook did not (an app's hook that ran before it answered), so that
 * the request line, span and metrics of an auth's 401 or a rate limit's 429 name the route Fastify
 * had already found. And a stream body that breaks after the response began is destroyed by Fastify
 * without an error the response or a hook would carry, so its request line would read as a client
 * that went away: the wrapper watches such a body for the request inside the kit's scope, a failure
 * of the server, with its error. A request the hook noted costs a property read, any other payload
 * a `typeof`.
 */
function wrapSend(from: object): void {
  let owner: object | null = from;
  while (owner !== null && !Object.hasOwn(owner, 'send'))
    owner = Object.getPrototypeOf(owner) as object | null;
  const send = (owner as { send?: Send } | null)?.send;
  if (owner === null || typeof send !== 'function' || send[wrapsSend] === true) return;
  const wrapped: Send = function sendNotingRequests(this: FastifyReplyLike, payload?: unknown): unknown {
    const request = this.request;
    if (request !== undefined && (request.raw as KitRequest)[fastifyRequest] === undefined)
      (request.raw as KitRequest)[fastifyRequest] = request;
    if (typeof (payload as { pipe?: unknown } | null)?.pipe === 'function') {
      const context = getMutableRequestContext();
      const res = this.raw;
      // The reply of the request in scope only (not one of another instance's `inject()` in it).
      if (context !== undefined && contextOfResponse(res) === context)
        (payload as NodeJS.EventEmitter).once('error', (error: unknown) => {
          if (!res.headersSent || res.writableFinished) return; // Fastify answers it as a route's error
          context[cutSlot] = true;
          context.error ??= error;
        });
    }
    // biome-ignore lint/complexity/noArguments: Fastify's own arity, whatever it takes
    return Reflect.apply(send, this, arguments);
  };
  wrapped[wrapsSend] = true;
  (owner as { send: Send }).send = wrapped;
}

/** Fastify's `request.id` when a string; the scope takes it when well formed. */
function requestIdOf(request: FastifyRequestLike): string | undefined {
  const { id } = request;
  return typeof id === 'string' ? id : undefined;
}

/**
 * The Fastify adapter: the kit in front of Fastify's request handler on Fastify's own server, as on
 * every adapter (the health paths, load shedding and the request scope come before any hook of the
 * app's, whatever order the app registered things in), and a plugin (wrapped the way `fastify-plugin`
 * wraps, so its hooks reach every route of every encapsulated context, the 404 handler included)
 * whose `onRequest` hook notes the request's route (`reply.send` notes it too, for a request an
 * app's hook answered before that one ran), and serves in the scope a request that did not come
 * through the server (`fastify.inject()`), and whose `onError` hook logs a route's error with the
 * request and marks its trace. The kit listens with Fastify's server after `ready()`; on shutdown
 * it drains that server's requests first, then calls `fastify.close()`, so that `preClose` hooks end
 * what is still open (`@fastify/websocket` closes its clients there) and `onClose` hooks run after the
 * last request was answered.
 */
export const fastifyAdapter: AppAdapter<FastifyLikeApp> = {
  name: 'fastify',
  matches: (app): app is FastifyLikeApp =>
    typeof app === 'object' &&
    app !== null &&
    isFunction((app as Partial<FastifyLikeApp>).register) &&
    isFunction((app as Partial<FastifyLikeApp>).addHook) &&
    isFunction((app as Partial<FastifyLikeApp>).ready) &&
    typeof (app as Partial<FastifyLikeApp>).server === 'object',
  assertInstallable: assertNotBooting,
  // Fastify makes fastify.log a child of the logger it was given as loggerInstance: that logger is
  // its prototype (with Fastify's own logger, a pino prototype the kit does not know).
  loggerOf: (fastify) => {
    const log = (fastify as { log?: unknown }).log;
    return typeof log === 'object' && log !== null ? Object.getPrototypeOf(log) : undefined;
  },
  install: (fastify, kit) => {
    const app = fastify as unknown as FastifyApp;
    const header = app.initialConfig?.requestIdHeader;
    // Before the first request: an app's hook may answer it. The prototype of the instance's replies
    // (Fastify keeps it under a symbol it does not export); else from the first reply the hook sees.
    const replies = symbolSlot(app, 'fastify.Reply');
    const replyPrototype: unknown = typeof replies === 'function' ? replies.prototype : undefined;
    let sendWrapped = typeof replyPrototype === 'object' && replyPrototype !== null;
    if (sendWrapped) wrapSend(replyPrototype as object);
    const plugin = (instance: FastifyInstanceLike, _options: unknown, done: Done): void => {
      instance.addHook('onRequest', (request, reply, next) => {
        const req = request.raw as KitRequest;
        req[fastifyRequest] = request;
        if (!sendWrapped) {
          sendWrapped = true;
          wrapSend(reply);
        }
        // Through the kit's listener: already in its scope. A WebSocket's upgrade, routed through
        // Fastify by `@fastify/websocket`: open work of its own, counted apart (`upgraded`), as on
        // every adapter: not a request in flight, nor a request line written when the socket closes.
        if (fastifyIdSlot in req || req.upgrade === true) {
          next();
          return;
        }
        // Not through the server: `fastify.inject()`, or a server whose handler the kit could not
        // stand in front of.
        serveInFront(
          kit,
          req,
          reply.raw,
          () => next(),
          () => reply.hijack(),
          requestIdOf(request),
        );
      });
      instance.addHook('onError', (_request, _reply, error, next) => {
        kit.reportError(error);
        next();
      });
      done();
    };
    // What fastify-plugin does: no encapsulation, so the hooks apply to the whole app.
    Object.assign(plugin, {
      [Symbol.for('skip-override')]: true,
      [Symbol.for('fastify.display-name')]: 'apprunner-kit',
    });
    let putBack: (() => void) | undefined;
    let unfollow: (() => void) | undefined;
    let active = true;
    try {
      app.register(plugin);
      const generate = takeRequestIds(app, kit.scope, header !== undefined && header !== false);
      // Marks the request as let through by the kit (the hook above then lets it be), with Fastify's
      // id of it, which Fastify's generator hands back; the kit takes it when it is a string.
      const enter = (req: IncomingMessage): string | undefined => {
        let id: unknown;
        try {
          id = generate?.(req);
        } catch {
          // An app's genReqId that throws: unmarked, Fastify asks it again and fails as without the kit.
          return undefined;
        }
        (req as KitRequest)[fastifyIdSlot] = id;
        return typeof id === 'string' ? id : undefined;
      };
      putBack = standInFront(app.server, app.routing, (handler) => {
        const front = inFront(kit, handler, enter);
        let warned = false;
        // Stopped, or Fastify's generator replaced during ready() (a plugin's setGenReqId, wrapped
        // by fastify-plugin): Fastify's handler alone, and the kit's onRequest hook serves the
        // request in its scope, with the id Fastify gave it.
        return function apprunnerKitFastifyListener(req, res): void {
          if (active && app.genReqId === generate) {
            front(req, res);
            return;
          }
          if (active && !warned) {
            warned = true;
            kit.logger.warn(
              "Fastify's genReqId was replaced after bootstrapAppRunner (a plugin's setGenReqId): the kit's " +
                "health endpoints and request scope run in its onRequest hook, after the app's own hooks, so " +
                'that request.id stays the requestId; give the generator as the genReqId option of Fastify()',
            );
          }
          handler(req, res);
        };
      });
      // Without the listener in front, the kit's hook takes the id Fastify gave: the plugin's.
      if (putBack !== undefined) unfollow = followPluginGenerators(app, kit.scope);
    } catch (error) {
      throw new UnsupportedAppError(
        'bootstrapAppRunner({ app }) needs the Fastify instance before ready() or listen(): remove your own ' +
          'fastify.listen() (the kit listens) and pass the instance right after registering your routes.',
        { cause: error },
      );
    }
    if (putBack === undefined)
      kit.logger.warn(
        { listeners: app.server.listenerCount('request') },
        "the server of Fastify's serverFactory has no single 'request' listener to stand in front of: the " +
          "kit's health endpoints and request scope run in an onRequest hook, after the app's own hooks; " +
          'give the server one listener, the handler serverFactory receives',
      );
    return {
      kind: 'fastify',
      // An HTTP/2 server is a net.Server too: the drain tells it apart (it has no closeAllConnections).
      server: app.server as Server,
      ready: async () => {
        try {
          await app.ready();
        } catch (error) {
          throw explainBootTimeout(error);
        }
      },
      afterDrain: async () => {
        await app.close();
      },
      ...(putBack === undefined
        ? {}
        : {
            uninstall: () => {
              // Another listener may have wrapped the kit's since: it then only passes requests on.
              active = false;
              putBack();
              unfollow?.();
            },
          }),
      routeOf: (req) => {
        const url = (req as KitRequest)[fastifyRequest]?.routeOptions?.url;
        return typeof url === 'string' ? url : undefined;
      },
    };
  },
};
