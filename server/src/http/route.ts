/**
 * Routes are declared once, with their zod schemas: the same declaration validates requests,
 * types the handler, and produces the OpenAPI document. Validation runs before the handler, so
 * a handler only ever sees well-formed input.
 */
import type Router from '@koa/router';
import { rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { Context } from 'koa';
import { z } from 'zod';
import type { ProviderRecord } from '../store/portal.js';
import type { SessionRecord } from '../store/store.js';
import { readJsonBody } from './body.js';
import type { PushGate, Upload } from './push-body.js';

/** Who may call: anyone, a logged-in user, an administrator, or a content provider (CGI-style push). */
export type Access = 'public' | 'user' | 'admin' | 'provider';
type Schema = z.ZodType;
type Out<S> = S extends Schema ? z.output<S> : undefined;

export interface Input<P, Q, B> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  session: SessionRecord;
  /** For provider routes: who pushes, and the uploaded file if any. */
  provider: ProviderRecord;
  file?: Upload;
}

/**
 * A hot path's handler (`RouteSpec.lane`): answers once through `answer` with JSON text and its
 * status (the route's `status` when not given), so the event lane can serve it on node:http
 * without Koa; `mount` serves the same function through Koa for whatever the lane passes on.
 */
export type LaneHandler<P, Q, B> = (input: Input<P, Q, B>, res: ServerResponse, answer: (json: LaneBody, status?: number) => void) => Promise<void>;
/** JSON text, or its UTF-8 bytes when one answer goes to many (a fan-out encodes it once). */
export type LaneBody = string | Buffer;

export interface RouteSpec<P extends Schema | undefined = any, Q extends Schema | undefined = any, B extends Schema | undefined = any> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  response: Schema;
  /**
   * A `user` route that also accepts a meeting guest's token (SessionRecord.guest): the handler
   * must then keep the guest to its own meeting. Every other route answers a guest 403.
   */
  guests?: boolean;
  /** Success status (200 unless said). */
  status?: number;
  /** Other success statuses a handler may choose (through ctx.state.status), for the documentation. */
  otherStatuses?: number[];
  /** Provider routes: largest file the push may carry (0 or absent: none). */
  maxFileBytes?: number;
  // Documentation only: what a handler does by hand, for the OpenAPI document (system/openapi.ts).
  /** Error statuses the handler or its service may answer beyond those its access and input imply. */
  errors?: number[];
  /** A body the handler reads itself (not `body`, not JSON): its media types and size cap. */
  rawBody?: { types: readonly string[]; maxBytes: number; description: string };
  /** A success body that is not JSON: its media types (then `response` only describes it). */
  responseTypes?: readonly string[];
  /** Headers on the success answers (not 204), by name. */
  responseHeaders?: Record<string, { description: string; schema: Record<string, unknown> }>;
  /** Answers with the body to send as JSON (or nothing for 204); absent when `lane` is given. */
  handler?: (input: Input<P, Q, B>, ctx: Context) => Promise<unknown>;
  /**
   * Instead of `handler`, for the few endpoints that carry most requests (the long poll, sending
   * a message): the event lane (events/lane.ts) serves these itself, matched from this very
   * declaration (method, path, access, schemas, status), and Koa serves the rest of their traffic
   * with the same function. Only `user` routes with a JSON body, if any.
   */
  lane?: LaneHandler<P, Q, B>;
}

/** Declares a route; an identity function that lets TypeScript infer the handler's input. */
export function route<P extends Schema | undefined = undefined, Q extends Schema | undefined = undefined, B extends Schema | undefined = undefined>(
  spec: RouteSpec<P, Q, B>,
): RouteSpec<P, Q, B> {
  if (!spec.handler === !spec.lane) throw new Error(`${spec.method} ${spec.path}: give a handler or a lane handler, not both`);
  if (spec.lane && (spec.access !== 'user' || spec.rawBody || spec.maxFileBytes)) throw new Error(`${spec.method} ${spec.path}: the lane serves user routes with JSON bodies only`);
  return spec;
}

/** JSON text a lane handler answered with, for Koa. */
class LaneJson {
  constructor(readonly text: LaneBody) {}
}

/** Runs a lane handler for Koa: what it answers becomes the response. */
function laneAnswer(spec: RouteSpec, input: Input<unknown, unknown, unknown>, ctx: Context) {
  return new Promise<LaneJson>((resolve, reject) => {
    spec.lane!(input as never, ctx.res, (json, status) => {
      if (status !== undefined) ctx.state.status = status;
      resolve(new LaneJson(json));
    }).catch(reject);
  });
}

export interface Gates {
  authenticate: (ctx: Context, access: Access, guests?: boolean) => Promise<void>;
  providers: PushGate;
}

export function mount(router: Router, routes: RouteSpec[], gates: Gates) {
  for (const spec of routes) {
    router[spec.method](spec.path, async (ctx) => {
      ctx.state.route = spec.path;
      if (spec.access === 'user' || spec.access === 'admin') await gates.authenticate(ctx, spec.access, spec.guests);
      const push = spec.access === 'provider' ? await gates.providers.read(ctx, spec.maxFileBytes ?? 0) : undefined;
      try {
        const input = {
          params: spec.params ? spec.params.parse(ctx.params) : undefined,
          query: spec.query ? spec.query.parse(ctx.query) : undefined,
          body: spec.body ? spec.body.parse(push ? push.fields : await readJsonBody(ctx)) : undefined,
          session: ctx.state.session,
          provider: push?.provider,
          file: push?.file,
        };
        const result = spec.lane ? await laneAnswer(spec, input as never, ctx) : await spec.handler!(input as never, ctx);
        ctx.status = (ctx.state.status as number | undefined) ?? spec.status ?? 200;
        if (result instanceof LaneJson) {
          ctx.type = 'application/json';
          ctx.body = result.text;
        } else {
          ctx.body = result;
        }
      } finally {
        // An upload the handler did not keep (moved into the media store) is thrown away; then
        // its upload slot and spool bytes are free again.
        try {
          if (push?.file) await rm(push.file.path, { force: true });
        } finally {
          push?.release();
        }
      }
    });
  }
}
