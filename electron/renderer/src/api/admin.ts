/**
 * The admin API as the admin console calls it: one method per call, typed by the protocol's
 * schemas (types only), over the client's request lane (its errors, its session, the method
 * override through GET/POST-only proxies).
 */
import type { z } from 'zod';
import type * as P from '../../../../shared/portal.js';
import type * as S from '../../../../shared/schemas.js';
import type { PorticoClient } from './client.js';
import type { Me } from './types.js';

export type AdminUser = z.infer<typeof S.AdminUser>;
export type AdminGroup = z.infer<typeof S.Group>;
export type AdminContact = z.infer<typeof S.Contact>;
export type AdminProvider = z.infer<typeof P.Provider>;
export type AdminChannel = z.infer<typeof P.Channel>;
export type AdminTerminals = z.infer<typeof S.TerminalsResponse>;
export type AdminUpdates = z.infer<typeof S.UpdatesResponse>;

const enc = encodeURIComponent;

export class AdminApi {
  constructor(private readonly client: PorticoClient) {}

  private call<R>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<R> {
    return this.client.api<R>(method, path, body);
  }

  me = () => this.call<{ user: Me }>('GET', '/api/v1/me').then((r) => r.user);

  // users
  users = () => this.call<{ users: AdminUser[] }>('GET', '/api/v1/admin/users').then((r) => r.users);
  addUser = (input: { username: string; displayName?: string; password: string; isAdmin?: boolean }) =>
    this.call<{ user: AdminUser }>('POST', '/api/v1/admin/users', input).then((r) => r.user);
  removeUser = (username: string) => this.call('DELETE', `/api/v1/admin/users/${enc(username)}`);
  resetPassword = (username: string, password: string) => this.call('PUT', `/api/v1/admin/users/${enc(username)}/password`, { password });
  contactsOf = (username: string) => this.call<{ contacts: AdminContact[] }>('GET', `/api/v1/admin/users/${enc(username)}/contacts`).then((r) => r.contacts);
  addContact = (username: string, contact: string) => this.call('PUT', `/api/v1/admin/users/${enc(username)}/contacts/${enc(contact)}`);
  removeContact = (username: string, contact: string) => this.call('DELETE', `/api/v1/admin/users/${enc(username)}/contacts/${enc(contact)}`);

  // groups
  groups = () => this.call<{ groups: AdminGroup[] }>('GET', '/api/v1/admin/groups').then((r) => r.groups);
  addGroup = (name: string, displayName?: string) => this.call('POST', '/api/v1/admin/groups', displayName ? { name, displayName } : { name });
  removeGroup = (name: string) => this.call('DELETE', `/api/v1/admin/groups/${enc(name)}`);
  addMember = (group: string, username: string) => this.call('PUT', `/api/v1/admin/groups/${enc(group)}/members/${enc(username)}`);
  removeMember = (group: string, username: string) => this.call('DELETE', `/api/v1/admin/groups/${enc(group)}/members/${enc(username)}`);

  // providers and channels
  providers = () => this.call<{ providers: AdminProvider[] }>('GET', '/api/v1/admin/providers').then((r) => r.providers);
  addProvider = (name: string, channels: string[], requireSignature: boolean) =>
    this.call<{ provider: AdminProvider; key: string }>('POST', '/api/v1/admin/providers', { name, channels, requireSignature });
  rotateKey = (name: string) => this.call<{ provider: AdminProvider; key: string }>('POST', `/api/v1/admin/providers/${enc(name)}/key`);
  setProviderChannels = (name: string, channels: string[]) => this.call('PUT', `/api/v1/admin/providers/${enc(name)}/channels`, { channels });
  removeProvider = (name: string) => this.call('DELETE', `/api/v1/admin/providers/${enc(name)}`);
  channels = () => this.call<{ channels: AdminChannel[] }>('GET', '/api/v1/channels').then((r) => r.channels);
  updateChannel = (name: string, change: { title?: string; isDefault?: boolean }) => this.call('PUT', `/api/v1/admin/channels/${enc(name)}`, change);

  // links, terminals, updates
  links = () => this.call<{ html: string; updatedAt?: string }>('GET', '/api/v1/links');
  setLinks = (html: string) => this.call<{ html: string }>('PUT', '/api/v1/admin/links', { html });
  terminals = () => this.call<AdminTerminals>('GET', '/api/v1/admin/terminals');
  removeTerminal = (installId: string) => this.call('DELETE', `/api/v1/admin/terminals/${enc(installId)}`);
  updates = () => this.call<AdminUpdates>('GET', '/api/v1/admin/updates');
}

/** A password to hand to a new user once: 16 characters without look-alikes (about 90 bits). */
export function generatePassword(length = 16): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const out: string[] = [];
  // Rejection sampling keeps every character equally likely.
  const limit = 256 - (256 % alphabet.length);
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < limit && out.length < length) out.push(alphabet[byte % alphabet.length]!);
    }
  }
  return out.join('');
}
