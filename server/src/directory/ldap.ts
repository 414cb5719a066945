/**
 * The company directory (Active Directory or another LDAP server), through ldapts.
 *
 * Sign-in finds the user with the service account (PORTICO_LDAP_BIND_DN) and then binds as that
 * user with the typed password: the directory checks it, Portico never compares passwords. The
 * typed ID is escaped (RFC 4515, ldapts' Filter.escape) before it enters the filter. Every
 * connection is TLS: ldaps://, or ldap:// upgraded with StartTLS before any bind, unless
 * PORTICO_LDAP_ALLOW_PLAIN is set (tests on loopback).
 */
import { readFileSync } from 'node:fs';
import { Client, Filter, ResultCodeError, type Entry } from 'ldapts';
import type { ConnectionOptions } from 'node:tls';
import { DisplayName, LIMITS, Username } from '../../../shared/index.js';
import type { ServerConfig } from '../config.js';

/** The directory could not be reached, or refused the service account: not the user's fault. */
export class DirectoryUnavailable extends Error {}

export interface DirectoryUser {
  dn: string;
  /** The Portico user ID (the username attribute). */
  username: string;
  displayName: string;
}

export interface DirectoryGroup {
  dn: string;
  /** The Portico group name (the name attribute, made a valid group name). */
  name: string;
  displayName: string;
  /** Member user IDs (members that are not users found by the user filter are left out). */
  members: string[];
}

export interface DirectorySnapshot {
  /** Users who match the user filter and the enabled filter. */
  users: DirectoryUser[];
  /** undefined when no group filter is configured (groups are then left alone). */
  groups?: DirectoryGroup[];
  /** Entries left out, and why (a name Portico cannot take). */
  skipped: string[];
}

export type DirectorySettings = Pick<
  ServerConfig,
  | 'ldapUrl'
  | 'ldapBindDn'
  | 'ldapBindPasswordFile'
  | 'ldapUserBase'
  | 'ldapUserFilter'
  | 'ldapUsernameAttribute'
  | 'ldapEnabledFilter'
  | 'ldapGroupBase'
  | 'ldapGroupFilter'
  | 'ldapGroupMemberAttribute'
  | 'ldapGroupNameAttribute'
  | 'ldapCaFile'
  | 'ldapAllowPlain'
  | 'ldapTimeoutMs'
>;

/** The user filter with the typed ID in place of {username}, escaped per RFC 4515. */
export function userFilter(template: string, username: string): string {
  return template.split('{username}').join(Filter.escape(username));
}

/** A DN compared the way directories do for our purposes: case and spaces around separators ignored. */
const normalDn = (dn: string) => dn.trim().toLowerCase().replace(/\s*([,=+])\s*/g, '$1');

/** The first value of an attribute, whatever case the server spelled its name in. */
function text(entry: Entry, attribute: string): string | undefined {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const value = key === undefined ? undefined : entry[key];
  const first = Array.isArray(value) ? value[0] : value;
  const s = first === undefined ? undefined : Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  return s?.trim() || undefined;
}

function values(entry: Entry, attribute: string): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const value = key === undefined ? [] : entry[key];
  return (Array.isArray(value) ? value : [value]).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
}

/** A directory group name as a Portico group name: lower case, other characters as dashes. */
export function groupNameOf(name: string): string | undefined {
  const made = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, LIMITS.usernameChars);
  return Username.safeParse(made).success ? made : undefined;
}

export class Directory {
  private readonly url: string;
  private readonly tls: ConnectionOptions;
  private readonly bindPassword: string | undefined;
  private readonly usernameAttribute: string;

  constructor(private readonly settings: DirectorySettings & { ldapUrl: string; ldapUserBase: string }) {
    this.url = settings.ldapUrl;
    const host = new URL(settings.ldapUrl).hostname.replace(/^\[|\]$/g, '');
    this.tls = { servername: /^[\d.:]+$/.test(host) ? undefined : host, ...(settings.ldapCaFile ? { ca: [readFileSync(settings.ldapCaFile)] } : {}) };
    this.bindPassword = settings.ldapBindPasswordFile ? readFileSync(settings.ldapBindPasswordFile, 'utf8').replace(/\r?\n$/, '') : undefined;
    this.usernameAttribute = settings.ldapUsernameAttribute ?? /\(([A-Za-z][A-Za-z0-9-]*)=\{username\}\)/.exec(settings.ldapUserFilter)?.[1] ?? 'uid';
  }

  /** Built from the configuration when a directory is configured. */
  static from(config: ServerConfig): Directory | undefined {
    const { ldapUrl, ldapUserBase } = config;
    return ldapUrl && ldapUserBase ? new Directory({ ...config, ldapUrl, ldapUserBase }) : undefined;
  }

  /**
   * The directory user with this ID and password, or undefined (no such enabled user, several,
   * or a wrong password). DirectoryUnavailable when the directory cannot answer.
   */
  async authenticate(username: string, password: string): Promise<DirectoryUser | undefined> {
    if (!password) return undefined; // an empty password is an anonymous bind, which "succeeds"
    return this.session(async (client) => {
      const filter = `(&${userFilter(this.settings.ldapUserFilter, username)}${this.settings.ldapEnabledFilter})`;
      let searchEntries: Entry[];
      try {
        ({ searchEntries } = await client.search(this.settings.ldapUserBase, { scope: 'sub', filter, attributes: this.userAttributes(), sizeLimit: 2 }));
      } catch (error) {
        if (error instanceof ResultCodeError && error.code === 4) return undefined; // sizeLimitExceeded: the ID is ambiguous
        throw error;
      }
      if (searchEntries.length !== 1) return undefined;
      const user = this.userOf(searchEntries[0]!);
      try {
        await client.bind(searchEntries[0]!.dn, password);
      } catch (error) {
        if (error instanceof ResultCodeError) return undefined; // wrong password, locked, expired: the directory said no
        throw error;
      }
      return user;
    });
  }

  /** The enabled users and (if configured) the groups, for the sync. */
  async snapshot(): Promise<DirectorySnapshot> {
    return this.session(async (client) => {
      const skipped: string[] = [];
      // Every user: the template's {username} as a presence test (the template is the admin's, not input).
      const filter = `(&${this.settings.ldapUserFilter.split('{username}').join('*')}${this.settings.ldapEnabledFilter})`;
      const found = await client.search(this.settings.ldapUserBase, { scope: 'sub', filter, attributes: this.userAttributes(), paged: { pageSize: 500 } });
      const users: DirectoryUser[] = [];
      const byDn = new Map<string, DirectoryUser>();
      const byName = new Map<string, DirectoryUser>();
      for (const entry of found.searchEntries) {
        const user = this.userOf(entry);
        if (!user) {
          skipped.push(`${entry.dn}: its ${this.usernameAttribute} is missing or not a valid Portico user ID`);
          continue;
        }
        if (byName.has(user.username.toLowerCase())) {
          skipped.push(`${entry.dn}: another entry has the user ID ${user.username}`);
          continue;
        }
        users.push(user);
        byDn.set(normalDn(user.dn), user);
        byName.set(user.username.toLowerCase(), user);
      }
      if (!this.settings.ldapGroupFilter) return { users, skipped };
      const nameAttribute = this.settings.ldapGroupNameAttribute;
      const memberAttribute = this.settings.ldapGroupMemberAttribute;
      const groupEntries = await client.search(this.settings.ldapGroupBase ?? this.settings.ldapUserBase, {
        scope: 'sub',
        filter: this.settings.ldapGroupFilter,
        attributes: [nameAttribute, memberAttribute],
        paged: { pageSize: 500 },
      });
      const groups: DirectoryGroup[] = [];
      for (const entry of groupEntries.searchEntries) {
        const raw = text(entry, nameAttribute);
        const name = raw && groupNameOf(raw);
        if (!raw || !name) {
          skipped.push(`${entry.dn}: its ${nameAttribute} makes no valid Portico group name`);
          continue;
        }
        if (groups.some((g) => g.name === name)) {
          skipped.push(`${entry.dn}: another group is named ${name} too`);
          continue;
        }
        // A member is a user's DN (member, uniqueMember) or their user ID (posixGroup's memberUid).
        const members = values(entry, memberAttribute)
          .map((m) => (m.includes('=') ? byDn.get(normalDn(m)) : byName.get(m.toLowerCase()))?.username)
          .filter((m): m is string => m !== undefined);
        groups.push({ dn: entry.dn, name, displayName: DisplayName.safeParse(raw.slice(0, LIMITS.displayNameChars)).data ?? name, members: [...new Set(members)].sort() });
      }
      return { users, groups, skipped };
    });
  }

  private userAttributes() {
    return [this.usernameAttribute, 'displayName', 'cn'];
  }

  private userOf(entry: Entry): DirectoryUser | undefined {
    const username = text(entry, this.usernameAttribute);
    if (!username || !Username.safeParse(username).success) return undefined;
    const name = text(entry, 'displayName') ?? text(entry, 'cn') ?? username;
    return { dn: entry.dn, username, displayName: name.slice(0, LIMITS.displayNameChars) };
  }

  /** One connection: TLS, the service account's bind, `fn`, unbind. Failures to talk are DirectoryUnavailable. */
  private async session<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const secure = this.url.toLowerCase().startsWith('ldaps:');
    const client = new Client({
      url: this.url,
      timeout: this.settings.ldapTimeoutMs,
      connectTimeout: this.settings.ldapTimeoutMs,
      ...(secure ? { tlsOptions: this.tls } : {}),
    });
    try {
      try {
        if (!secure && !this.settings.ldapAllowPlain) await client.startTLS(this.tls);
        if (this.settings.ldapBindDn) await client.bind(this.settings.ldapBindDn, this.bindPassword ?? '');
      } catch (error) {
        throw new DirectoryUnavailable(`${secure || this.settings.ldapAllowPlain ? '' : 'StartTLS or '}the service account's bind failed: ${(error as Error).message}`);
      }
      return await fn(client);
    } catch (error) {
      if (error instanceof DirectoryUnavailable) throw error;
      throw new DirectoryUnavailable((error as Error).message);
    } finally {
      await client.unbind().catch(() => {});
    }
  }
}
