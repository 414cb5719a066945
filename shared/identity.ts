/** Company identity (issue 21): where an account comes from. */
import { z } from 'zod';

/** local: made in Portico (ID and password); directory: Active Directory / LDAP; sso: OpenID Connect. */
export const UserSource = z.enum(['local', 'directory', 'sso']);
export type UserSource = z.infer<typeof UserSource>;
