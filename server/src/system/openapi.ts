/** The OpenAPI 3.1 document, generated from the same route declarations and zod schemas the server validates with. */
import { z } from 'zod';
import { ErrorBody } from '../../../shared/index.js';
import type { RouteSpec } from '../http/route.js';

function jsonSchema(schema: z.ZodType, io: 'input' | 'output') {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, any>;
  return rest; // OpenAPI 3.1 already speaks JSON Schema 2020-12
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const s = jsonSchema(schema, 'input');
  return Object.entries((s.properties ?? {}) as Record<string, unknown>).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || ((s.required ?? []) as string[]).includes(name),
    schema: property,
  }));
}

/** Users send JSON; providers may also send forms (what curl -d / -F sends), files as multipart. */
function requestContent(r: RouteSpec) {
  const schema = jsonSchema(r.body!, 'input');
  if (r.access !== 'provider') return { 'application/json': { schema } };
  const form = { ...schema, properties: { ...schema.properties, key: { type: 'string', description: 'the provider key, if not sent as a bearer token' } } };
  const multipart = r.maxFileBytes ? { ...form, properties: { ...form.properties, file: { type: 'string', format: 'binary' } } } : form;
  return {
    'application/x-www-form-urlencoded': { schema: form },
    'multipart/form-data': { schema: multipart },
    'application/json': { schema },
  };
}

export function openApiDocument(routes: RouteSpec[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  const error = { description: 'Error', content: { 'application/json': { schema: jsonSchema(ErrorBody, 'output') } } };
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    (paths[path] ??= {})[r.method] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.access === 'public' ? {} : { security: r.access === 'provider' ? [{ providerKey: [] }, { providerSignature: [] }] : [{ bearer: [] }] }),
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body ? { requestBody: { required: true, content: requestContent(r) } } : {}),
      responses: {
        ...Object.fromEntries(
          [r.status ?? 200, ...(r.otherStatuses ?? [])].map((status) => [
            String(status),
            { description: status === 201 ? 'Created' : 'Success', content: { 'application/json': { schema: jsonSchema(r.response, 'output') } } },
          ]),
        ),
        default: error,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Portico API', version, description: 'Everything over one HTTP(S) origin; events by long poll.' },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a user token from POST /api/v1/login' },
        providerKey: { type: 'http', scheme: 'bearer', description: 'a content provider key (or a `key` form field)' },
        providerSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Portico-Signature',
          description:
            'sha256=<hex HMAC-SHA256 of "<X-Portico-Timestamp>.<METHOD>.<path without query>.<raw body>" under the provider key>, with X-Portico-Provider and X-Portico-Timestamp (Unix seconds, within 300 s); each signature is accepted once (409 replayed)',
        },
      },
    },
  };
}
