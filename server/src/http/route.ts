/**
 * Routes are declared once, with their zod schemas: the same declaration validates requests,
 * types the handler, and produces the OpenAPI document. Validation runs before the handler, so
 * a handler only ever sees well-formed input.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { SessionRecord } from '../store/store.js';
import { readJsonBody } from './body.js';

export type Access = 'public' | 'user' | 'admin';
type Schema = z.ZodType;
type Out<S> = S extends Schema ? z.output<S> : undefined;

export interface Input<P, Q, B> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  session: SessionRecord;
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
  handler: (input: Input<P, Q, B>, ctx: Context) => Promise<unknown>;
}

/** Declares a route; an identity function that lets TypeScript infer the handler's input. */
export function route<P extends Schema | undefined = undefined, Q extends Schema | undefined = undefined, B extends Schema | undefined = undefined>(
  spec: RouteSpec<P, Q, B>,
): RouteSpec<P, Q, B> {
  return spec;
}

export function mount(router: Router, routes: RouteSpec[], authenticate: (ctx: Context, access: Access) => Promise<void>) {
  for (const spec of routes) {
    router[spec.method](spec.path, async (ctx) => {
      ctx.state.route = spec.path;
      if (spec.access !== 'public') await authenticate(ctx, spec.access);
      const input = {
        params: spec.params ? spec.params.parse(ctx.params) : undefined,
        query: spec.query ? spec.query.parse(ctx.query) : undefined,
        body: spec.body ? spec.body.parse(await readJsonBody(ctx)) : undefined,
        session: ctx.state.session,
      };
      const result = await spec.handler(input as never, ctx);
      ctx.status = (ctx.state.status as number | undefined) ?? spec.status ?? 200;
      if (result instanceof RawJson) {
        ctx.type = 'application/json';
        ctx.body = result.text;
      } else {
        ctx.body = result;
      }
    });
  }
}
