import { z } from 'zod';

/** Every error the API answers with: `{error: {code, message}}`. */
export const ErrorCode = z.enum([
  'invalid_request',
  'invalid_json',
  'unsupported_media_type',
  'body_too_large',
  /** A provider push that would take it past its media storage quota. */
  'quota_exceeded',
  'invalid_credentials',
  /** A password change whose old password is wrong (403: the session itself is fine). */
  'wrong_password',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'username_taken',
  'idempotency_conflict',
  'chat_closed',
  'chat_not_active',
  'rate_limited',
  /** A signed provider request whose signature was already accepted once. */
  'replayed',
  /** Login from a new terminal (installId) refused: every seat is taken. */
  'seat_limit',
  /** A call nobody can answer: none of the callees is online. */
  'callee_offline',
  /** A call nobody can answer: every callee is already on a call. */
  'callee_busy',
  /** X-HTTP-Method-Override on something other than a POST, or with a value other than PUT, PATCH, DELETE. */
  'invalid_method_override',
  /** Sign-in of a directory account while the company directory (LDAP) cannot be reached or searched. */
  'directory_unavailable',
  /** A change Portico does not make to an account the directory or single sign-on keeps (its password). */
  'managed_by_directory',
  /** A message names a file id that is not a file of its chat (unknown, or another chat's). */
  'unknown_file',
  /** Single sign-on while the OpenID Connect provider cannot be reached (local accounts still sign in). */
  'sso_unavailable',
  /** Single sign-on is not configured on this server (no PORTICO_OIDC_ISSUER). */
  'sso_not_configured',
  /** A single sign-on answer Portico refuses: state, nonce, ID token, or a one-time code that is wrong, used or expired. */
  'sso_failed',
  /** Single sign-on for a user ID that belongs to a local or directory account: never taken over. */
  'sso_account_conflict',
  /** The database cannot be reached at the moment (PostgreSQL restarting): try again shortly. */
  'unavailable',
  'internal_error',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.strictObject({
  error: z.strictObject({
    code: ErrorCode,
    message: z.string(),
    /** Field-level detail for invalid_request. */
    issues: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
