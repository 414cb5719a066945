/**
 * Routes are declared once, with their zod schemas: the same declaration validates requests,
 * types the handler, and produces the OpenAPI document. Validation runs before the handler, so
 * a handler only ever sees well-formed input.
 */
import type Router from '@koa/router';
import { rm } from 'node:fs/promises';
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

/** A response body that is already JSON text (the event stream builds its answers by hand). */
export class RawJson {
  constructor(readonly text: string) {}
}

export interface RouteSpec<P extends Schema | undefined = any, Q extends Schema | undefined = any, B extends Schema | undefined = any> {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  response: Schema;
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
  handler: (input: Input<P, Q, B>, ctx: Context) => Promise<unknown>;
}

/** Declares a route; an identity function that lets TypeScript infer the handler's input. */
export function route<P extends Schema | undefined = undefined, Q extends Schema | undefined = undefined, B extends Schema | undefined = undefined>(
  spec: RouteSpec<P, Q, B>,
): RouteSpec<P, Q, B> {
  return spec;
}

export interface Gates {
  authenticate: (ctx: Context, access: Access) => Promise<void>;
  providers: PushGate;
}

export function mount(router: Router, routes: RouteSpec[], gates: Gates) {
  for (const spec of routes) {
    router[spec.method](spec.path, async (ctx) => {
      ctx.state.route = spec.path;
      if (spec.access === 'user' || spec.access === 'admin') await gates.authenticate(ctx, spec.access);
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
        const result = await spec.handler(input as never, ctx);
        ctx.status = (ctx.state.status as number | undefined) ?? spec.status ?? 200;
        if (result instanceof RawJson) {
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
