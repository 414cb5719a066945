import {
  AdminUserResponse,
  AdminUsersResponse,
  ContactsResponse,
  CreateGroupRequest,
  CreateUserRequest,
  GroupMemberParams,
  GroupParams,
  GroupResponse,
  GroupsResponse,
  OkResponse,
  ResetPasswordRequest,
  UserContactParams,
  UsernameParams,
} from '../../../shared/index.js';
import type { Services } from '../context.js';
import { route } from '../http/route.js';
import type { GroupRecord, UserRecord } from '../store/store.js';
import { Accounts, type AccountHooks } from './accounts.js';

/** What the running server does after an account change (also the directory sync's). */
export function accountHooks({ presence, subscriptions }: Pick<Services, 'presence' | 'subscriptions'>): AccountHooks {
  return {
    subscriptionsChanged(userIds) {
      subscriptions.changed(userIds);
    },
    async userRemoved(userId) {
      presence.dropUser(userId);
      await subscriptions.sessionsEnded({ userIds: [userId] }); // its polls end, on every node (their sessions are gone)
      subscriptions.changed('all', { onlyFewer: true }); // whoever had them as a contact
      await presence.refresh(userId); // offline at once (a removed user was announced so already)
    },
  };
}

/** A group as the API shows it (where it comes from stays inside: `portico group list` tells). */
const groupView = ({ name, displayName, members }: GroupRecord) => ({ name, displayName, members });

export function adminRoutes(services: Services) {
  const { store, presence } = services;
  const accounts = new Accounts(store, accountHooks(services));
  const adminUser = (u: UserRecord) => ({
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    isAdmin: u.isAdmin,
    presence: presence.effective(u),
    createdAt: new Date(u.createdAt).toISOString(),
    source: u.source,
    disabled: u.disabled,
  });
  const contactsOf = async (username: string) => ({
    contacts: (await accounts.contactsOf(username)).map((c) => ({
      username: c.user.username,
      displayName: c.user.displayName,
      presence: presence.effective(c.user),
      personal: c.personal,
      groups: c.groups,
    })),
  });
  const common = { tag: 'admin', access: 'admin' } as const;

  return [
    route({
      ...common,
      method: 'get',
      path: '/api/v1/admin/users',
      summary: 'All users',
      response: AdminUsersResponse,
      async handler() {
        return { users: (await accounts.listUsers()).map(adminUser) };
      },
    }),
    route({
      ...common,
      method: 'post',
      path: '/api/v1/admin/users',
      summary: 'Create a user',
      body: CreateUserRequest,
      response: AdminUserResponse,
      status: 201,
      async handler({ body }) {
        return { user: adminUser(await accounts.createUser(body)) };
      },
    }),
    route({
      ...common,
      method: 'delete',
      path: '/api/v1/admin/users/:username',
      summary: 'Remove a user: their sessions end, they leave their chats; messages they sent stay in history',
      params: UsernameParams,
      response: OkResponse,
      async handler({ params }) {
        await accounts.removeUser(params.username);
        return { ok: true };
      },
    }),
    route({
      ...common,
      method: 'put',
      path: '/api/v1/admin/users/:username/password',
      summary: "Reset a user's password; their sessions end",
      params: UsernameParams,
      body: ResetPasswordRequest,
      response: OkResponse,
      async handler({ params, body }) {
        await accounts.resetPassword(params.username, body.password);
        return { ok: true };
      },
    }),
    route({
      ...common,
      method: 'get',
      path: '/api/v1/admin/users/:username/contacts',
      summary: "A user's contacts",
      params: UsernameParams,
      response: ContactsResponse,
      handler: ({ params }) => contactsOf(params.username),
    }),
    route({
      ...common,
      method: 'put',
      path: '/api/v1/admin/users/:username/contacts/:contact',
      summary: "Add a contact to a user's list",
      params: UserContactParams,
      response: ContactsResponse,
      async handler({ params }) {
        await accounts.addContact(params.username, params.contact);
        return contactsOf(params.username);
      },
    }),
    route({
      ...common,
      method: 'delete',
      path: '/api/v1/admin/users/:username/contacts/:contact',
      summary: "Remove a contact from a user's list",
      params: UserContactParams,
      response: ContactsResponse,
      async handler({ params }) {
        await accounts.removeContact(params.username, params.contact);
        return contactsOf(params.username);
      },
    }),
    route({
      ...common,
      method: 'get',
      path: '/api/v1/admin/groups',
      summary: 'All groups with their members',
      response: GroupsResponse,
      async handler() {
        return { groups: (await accounts.listGroups()).map(groupView) };
      },
    }),
    route({
      ...common,
      method: 'post',
      path: '/api/v1/admin/groups',
      summary: 'Create a group: its members all see each other as contacts',
      body: CreateGroupRequest,
      response: GroupResponse,
      status: 201,
      async handler({ body }) {
        return { group: groupView(await accounts.createGroup(body.name, body.displayName)) };
      },
    }),
    route({
      ...common,
      method: 'delete',
      path: '/api/v1/admin/groups/:name',
      summary: 'Remove a group',
      params: GroupParams,
      response: OkResponse,
      async handler({ params }) {
        await accounts.removeGroup(params.name);
        return { ok: true };
      },
    }),
    route({
      ...common,
      method: 'put',
      path: '/api/v1/admin/groups/:name/members/:username',
      summary: 'Add a user to a group',
      params: GroupMemberParams,
      response: GroupResponse,
      async handler({ params }) {
        await accounts.addToGroup(params.name, params.username);
        return { group: groupView(await accounts.group(params.name)) };
      },
    }),
    route({
      ...common,
      method: 'delete',
      path: '/api/v1/admin/groups/:name/members/:username',
      summary: 'Remove a user from a group',
      params: GroupMemberParams,
      response: GroupResponse,
      async handler({ params }) {
        await accounts.removeFromGroup(params.name, params.username);
        return { group: groupView(await accounts.group(params.name)) };
      },
    }),
  ];
}
