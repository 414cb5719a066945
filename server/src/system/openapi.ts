/**
 * The OpenAPI 3.1 document, generated from the same route declarations and zod schemas the server
 * validates with; the few routes served by hand (health, metrics, files, games, updates) are
 * described here. Checked by Redocly's linter (redocly.yaml; tests/integration/validators.test.ts).
 */
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
  return Object.entries((s.properties ?? {}) as Record<string, Record<string, unknown>>).map(([name, { description, ...property }]) => ({
    name,
    in: where,
    required: where === 'path' || ((s.required ?? []) as string[]).includes(name),
    ...(description ? { description } : {}),
    schema: property,
  }));
}

/** Users send JSON; providers may also send forms (what curl -d / -F sends), files as multipart. */
function requestContent(r: RouteSpec) {
  if (r.rawBody) {
    const { types, maxBytes, description } = r.rawBody;
    return Object.fromEntries(types.map((type) => [type, { schema: { type: 'string', contentMediaType: type, description: `${description}, at most ${maxBytes} bytes` } }]));
  }
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

/** The error answers, `{error: {code, message}}`, each once under components.responses. */
const ERRORS: Record<number, { name: string; description: string; headers?: Record<string, unknown> }> = {
  400: { name: 'BadRequest', description: 'Invalid request: a path parameter, the query or the body does not match the schema (`invalid_request`, `invalid_json`)' },
  401: {
    name: 'Unauthorized',
    description: 'No valid token (or provider key or signature): `unauthorized`',
    headers: { 'WWW-Authenticate': { description: 'always `Bearer`', schema: { type: 'string' } } },
  },
  403: { name: 'Forbidden', description: 'Authenticated, but not allowed to do this: `forbidden`' },
  404: { name: 'NotFound', description: 'What the path names does not exist (or is not visible to the caller): `not_found`' },
  408: {
    name: 'RequestTimeout',
    description: 'The body did not arrive in time (10 s for JSON, 20 s for a provider form); the connection is closed',
    headers: { Connection: { description: '`close`', schema: { type: 'string' } } },
  },
  409: { name: 'Conflict', description: 'The request conflicts with the current state (`conflict`, `username_taken`, `chat_not_active`, `replayed`, `managed_by_directory`, `sso_account_conflict`, ...)' },
  412: { name: 'PreconditionFailed', description: 'If-Match names another version of the file' },
  413: { name: 'ContentTooLarge', description: 'The body, a field or the file is over its limit: `body_too_large`' },
  415: { name: 'UnsupportedMediaType', description: 'The body has a Content-Type this route does not take: `unsupported_media_type`' },
  416: {
    name: 'RangeNotSatisfiable',
    description: 'The Range lies outside the file',
    headers: { 'Content-Range': { description: '`bytes */<size>`', schema: { type: 'string' } } },
  },
  429: {
    name: 'TooManyRequests',
    description: 'Too many attempts or pushes: `rate_limited`',
    headers: { 'Retry-After': { description: 'seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } } },
  },
  500: { name: 'InternalError', description: 'An unexpected failure, logged on the server: `internal_error`' },
  503: { name: 'ServiceUnavailable', description: 'A service the request needs cannot be reached just now, e.g. the company directory at sign-in: `directory_unavailable`, the single sign-on provider: `sso_unavailable`' },
};
const errorRef = (status: number) => ({ $ref: `#/components/responses/${ERRORS[status]!.name}` });
const errorResponses = (statuses: number[]) => Object.fromEntries([...new Set([...statuses, 500])].sort((a, b) => a - b).map((s) => [String(s), errorRef(s)]));

/**
 * Errors that come from a route's service, by route (method and path as declared), for the route
 * files that do not declare them in `errors` themselves.
 */
const SERVICE_ERRORS: Record<string, number[]> = {
  'post /api/v1/login': [401, 429],
  'post /api/v1/chats/:id/accept': [403, 409],
  'post /api/v1/chats/:id/decline': [403, 409],
  'post /api/v1/chats/:id/leave': [403, 409],
  'get /api/v1/chats/:id': [403],
  'get /api/v1/chats/:id/messages': [403],
  'put /api/v1/chats/:id/messages/:clientId': [403, 409],
  'post /api/v1/calls': [404, 409],
  'post /api/v1/calls/:id/accept': [409],
  'post /api/v1/calls/:id/decline': [409],
  'post /api/v1/calls/:id/hangup': [409],
  'post /api/v1/calls/:id/signal': [409],
  'post /api/v1/admin/users': [409],
  'delete /api/v1/admin/users/:username': [409],
  'put /api/v1/admin/users/:username/password': [409],
  'post /api/v1/admin/groups': [409],
  'post /api/v1/admin/providers': [409],
};
export const SERVICE_ERROR_ROUTES = Object.keys(SERVICE_ERRORS);

/** The error statuses of a declared route: from who may call it and what it reads, plus its own. */
function errorStatuses(r: RouteSpec): number[] {
  const statuses = [...(r.errors ?? []), ...(SERVICE_ERRORS[`${r.method} ${r.path}`] ?? [])];
  if (r.params || r.query || r.body || r.rawBody) statuses.push(400);
  if (r.params) statuses.push(404);
  if (r.access !== 'public') statuses.push(401);
  // A meeting guest's token on a route that does not accept guests: 403 (http/auth.ts).
  if (r.access === 'admin' || r.access === 'user') statuses.push(403);
  if (r.body && r.access !== 'provider') statuses.push(408, 413, 415);
  if (r.rawBody) statuses.push(413, 415);
  // A push: key or signature (401), its channel (403), a replayed signature (409), the rate limit.
  if (r.access === 'provider') statuses.push(400, 401, 403, 408, 409, 413, 415, 429);
  return statuses;
}

function security(access: RouteSpec['access']) {
  if (access === 'public') return [];
  return access === 'provider' ? [{ providerKey: [] }, { providerSignature: [] }] : [{ bearer: [] }];
}

function successResponses(r: RouteSpec) {
  const statuses = [r.status ?? 200, ...(r.otherStatuses ?? [])];
  return Object.fromEntries(
    statuses.map((status) => {
      if (status === 204) return ['204', { description: 'No content' }];
      const schema = jsonSchema(r.response, 'output');
      const content = r.responseTypes
        ? Object.fromEntries(r.responseTypes.map((type) => [type, { schema: { type: 'string', contentMediaType: type, description: schema.description } }]))
        : { 'application/json': { schema } };
      return [String(status), { description: status === 201 ? 'Created' : 'Success', ...(r.responseHeaders ? { headers: r.responseHeaders } : {}), content }];
    }),
  );
}

/** A stable, unique operationId from method and path: `put /api/v1/contacts/{username}` -> putContactsByUsername. */
function operationId(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v1\//, '/')
    .split(/[/._-]+/)
    .filter(Boolean)
    .map((segment) => segment.replace(/^\{(\w+)\}$/, 'by-$1'))
    .flatMap((segment) => segment.split('-'));
  return method + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

const stringParam = (name: string, where: 'path' | 'header', description: string, schema: Record<string, unknown> = { type: 'string' }) => ({
  name,
  in: where,
  required: where === 'path',
  description,
  schema,
});
const SHA256_PARAM = stringParam('sha256', 'path', 'the SHA-256 of the file (media) or of the uploaded zip (game), hex', { type: 'string', pattern: '^[0-9a-f]{64}$' });
const TOKEN_PARAM = stringParam('token', 'path', 'the signed, expiring capability from GET /api/v1/media (the URL is handed out whole)');
const CONDITIONAL_HEADERS = [
  stringParam('Range', 'header', 'one byte range, `bytes=<from>-<to>`, `bytes=<from>-` or `bytes=-<suffix>`'),
  stringParam('If-Range', 'header', 'the ETag the Range is meant for; another version gets the whole file'),
  stringParam('If-None-Match', 'header', 'ETags the caller has: a match gets 304'),
];
const FILE_HEADERS = {
  ETag: { description: 'strong; the same file keeps its ETag', schema: { type: 'string' } },
  'Accept-Ranges': { description: '`bytes`', schema: { type: 'string' } },
  'Cache-Control': { description: 'how long the answer may be kept', schema: { type: 'string' } },
};
const CONTENT_RANGE = { 'Content-Range': { description: '`bytes <from>-<to>/<size>`', schema: { type: 'string' } } };
const binary = (types: string[]) => Object.fromEntries(types.map((type) => [type, { schema: { type: 'string', contentMediaType: type } }]));

/** A file answer with ETags and ranges (media/serve.ts's sendFile), as a GET operation. */
function fileOperation(o: {
  operationId: string;
  summary: string;
  description: string;
  tag: string;
  parameters: unknown[];
  types: string[];
  partialTypes?: string[];
  headers: Record<string, unknown>;
  errors: number[];
  /** Who may fetch it; none by default (the path is the capability, or the files are public). */
  security?: unknown[];
}) {
  return {
    get: {
      operationId: o.operationId,
      summary: o.summary,
      description: o.description,
      tags: [o.tag],
      security: o.security ?? [],
      parameters: [...o.parameters, ...CONDITIONAL_HEADERS],
      responses: {
        '200': { description: 'The whole file', headers: { ...FILE_HEADERS, ...o.headers }, content: binary(o.types) },
        '206': {
          description: 'The requested range (Content-Range says which bytes of how many)',
          headers: { ...FILE_HEADERS, ...o.headers, ...CONTENT_RANGE },
          content: binary(o.partialTypes ?? o.types),
        },
        '304': { description: 'Not modified: the caller has this version (If-None-Match)', headers: FILE_HEADERS },
        ...errorResponses([...o.errors, 416]),
      },
    },
  };
}

/** The routes served by hand (system/routes.ts, media/serve.ts, updates/serve.ts). */
function handServedPaths() {
  const json = (schema: Record<string, unknown>) => ({ 'application/json': { schema } });
  return {
    '/healthz': {
      get: {
        operationId: 'getHealthz',
        summary: 'Health check for load balancers and monitoring: answers while the server runs',
        tags: ['system'],
        security: [],
        responses: {
          '200': {
            description: 'Running',
            content: json({
              type: 'object',
              properties: { ok: { type: 'boolean', const: true }, version: { type: 'string' } },
              required: ['ok', 'version'],
              additionalProperties: false,
            }),
          },
          ...errorResponses([]),
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics (text exposition format): open from this machine (loopback), an administrator token from elsewhere',
        tags: ['system'],
        security: [{}, { bearer: [] }],
        responses: {
          '200': { description: 'The metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
          ...errorResponses([401, 403]),
        },
      },
    },
    '/api/v1/openapi.json': {
      get: {
        operationId: 'getOpenapiJson',
        summary: 'This API description (OpenAPI 3.1)',
        tags: ['system'],
        security: [],
        responses: { '200': { description: 'The document', content: json({ type: 'object' }) }, ...errorResponses([]) },
      },
    },
    '/media/{token}/{sha256}': fileOperation({
      operationId: 'getMediaFile',
      summary: 'A media file (image, video, audio, document) under its signed path, as GET /api/v1/media lists it',
      description: 'HEAD answers the same headers. The file runs nothing when opened directly (CSP sandbox).',
      tag: 'portal',
      parameters: [TOKEN_PARAM, SHA256_PARAM],
      types: ['*/*'],
      headers: { 'Content-Security-Policy': { description: "`default-src 'none'; sandbox`", schema: { type: 'string' } } },
      errors: [403, 404],
    }),
    '/games/{token}/{sha256}/{file}': fileOperation({
      operationId: 'getGameFile',
      summary: 'A file of an unpacked game under its signed path (index.html first), for a sandboxed frame',
      description:
        'The `file` part may hold several segments (`assets/sprite.png`), each percent-encoded on its own; a path ending in `/` gets that folder\'s `index.html`. HEAD answers the same headers.',
      tag: 'portal',
      parameters: [TOKEN_PARAM, SHA256_PARAM, stringParam('file', 'path', 'the path of the file inside the game, slashes included')],
      types: ['*/*'],
      headers: {
        'Content-Security-Policy': { description: 'a sandbox with scripts and an opaque origin, no network', schema: { type: 'string' } },
        'Access-Control-Allow-Origin': { description: '`*` (the opaque-origin game loads its own modules and fonts in CORS mode)', schema: { type: 'string' } },
      },
      errors: [400, 403, 404],
    }),
    '/avatars/{file}': fileOperation({
      operationId: 'getAvatarFile',
      summary: "A user's picture (256 px square WebP) as avatarUrl names it: no token, the name is a keyed hash of the picture",
      description: 'HEAD answers the same headers. The file never changes (a new picture gets a new name), so it may be cached for a year.',
      tag: 'me',
      parameters: [stringParam('file', 'path', '`<key>.webp`, as in avatarUrl', { type: 'string', pattern: '^[0-9a-f]{64}\\.webp$' })],
      types: ['image/webp'],
      headers: {},
      errors: [404],
    }),
    ...Object.fromEntries(
      [false, true].map((thumbnail) => [
        `/api/v1/chats/{id}/files/{fileId}${thumbnail ? '/thumbnail' : ''}`,
        fileOperation({
          operationId: thumbnail ? 'getChatFileThumbnail' : 'getChatFile',
          summary: thumbnail
            ? 'The thumbnail of an image sent in a chat (WebP, at most 320 x 320), as its `thumbnailUrl` names it'
            : 'A file sent in a chat, as its message\'s `url` names it',
          description:
            "A member taking part in the chat fetches it with their token; anyone with the signed path (`exp` and `sig`, in the message's `url`, valid for some hours) without one. " +
            'Anyone else gets 404; a changed or expired signature 403. Images, audio and video are `inline`, everything else an `attachment`. HEAD answers the same headers.',
          tag: 'chat',
          parameters: [
            stringParam('id', 'path', 'the chat', { type: 'string', format: 'uuid' }),
            stringParam('fileId', 'path', 'the file, as the upload answered it', { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' }),
            { name: 'exp', in: 'query', required: false, description: 'the expiry of a signed path', schema: { type: 'string' } },
            { name: 'sig', in: 'query', required: false, description: 'the signature of a signed path', schema: { type: 'string' } },
          ],
          types: thumbnail ? ['image/webp'] : ['*/*'],
          headers: {
            'Content-Security-Policy': { description: "`default-src 'none'; sandbox`", schema: { type: 'string' } },
            'Content-Disposition': { description: '`inline` or `attachment`, with the file name', schema: { type: 'string' } },
          },
          errors: [401, 403, 404, 412],
          security: [{ bearer: [] }, {}],
        }),
      ]),
    ),
    '/updates/{file}': fileOperation({
      operationId: 'getUpdateFile',
      summary: "Client updates: electron-updater's generic provider files (latest.yml, latest-linux.yml, latest-mac.yml and the installers they name)",
      description: 'No token; HEAD answers the same headers. Several ranges in one request get one `multipart/byteranges` answer (differential downloads). 404 when updates are not offered.',
      tag: 'updates',
      parameters: [
        stringParam('file', 'path', 'a published file name (one segment, no hidden files)'),
        stringParam('If-Match', 'header', 'ETags the Range is meant for; another version gets 412'),
      ],
      types: ['application/octet-stream', 'text/yaml'],
      partialTypes: ['application/octet-stream', 'text/yaml', 'multipart/byteranges'],
      headers: {},
      errors: [400, 404, 412],
    }),
  };
}

export function openApiDocument(routes: RouteSpec[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  const ids = new Set<string>();
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const id = operationId(r.method, path);
    if (ids.has(id)) throw new Error(`two routes would have the operationId ${id}`);
    ids.add(id);
    (paths[path] ??= {})[r.method] = {
      operationId: id,
      summary: r.summary,
      tags: [r.tag],
      security: security(r.access),
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body || r.rawBody ? { requestBody: { required: true, content: requestContent(r) } } : {}),
      responses: { ...successResponses(r), ...errorResponses(errorStatuses(r)) },
    };
  }
  Object.assign(paths, handServedPaths());
  return {
    openapi: '3.1.0',
    info: {
      title: 'Portico API',
      version,
      description:
        'Everything over one HTTP(S) origin; events by long poll. Behind a proxy that allows only GET and POST, send a PUT, PATCH or DELETE under /api/ as POST with `X-HTTP-Method-Override: PUT|PATCH|DELETE`: it meets the same authentication, validation and limits as the method it names (any other use of the header is 400 `invalid_method_override`).',
    },
    servers: [{ url: '/', description: 'the server that serves this document' }],
    paths,
    components: {
      schemas: { Error: jsonSchema(ErrorBody, 'output') },
      responses: Object.fromEntries(
        Object.values(ERRORS).map(({ name, description, headers }) => [
          name,
          { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        ]),
      ),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a user token from POST /api/v1/login' },
        providerKey: { type: 'http', scheme: 'bearer', description: 'a content provider key (or a `key` form field)' },
        providerSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Portico-Signature',
          description:
            'sha256=<hex HMAC-SHA256 of "<X-Portico-Timestamp>.<METHOD>.<path>.<raw body>" under the provider key> (path without the query), with X-Portico-Provider and X-Portico-Timestamp (Unix seconds, within 300 s); a signature is accepted once (409 `replayed` after)',
        },
      },
    },
  };
}
