import {
  ContactResponse,
  ContactsResponse,
  LIMITS,
  OkResponse,
  UserSearchQuery,
  UsernameParams,
  UsersResponse,
  type Contact,
} from '../../../shared/index.js';
import type { Services } from '../context.js';
import { AppError, notFound } from '../errors.js';
import { addContact, removeContact } from './rules.js';
import { route } from '../http/route.js';
import type { ContactRecord, UserRecord } from '../store/store.js';
import { avatarOf, publicView, statusView } from '../me/views.js';

export function contactRoutes({ store, presence, subscriptions }: Services) {
  const toContact = (c: ContactRecord, now = Date.now()): Contact => {
    const status = statusView(c.user.status, now);
    return {
      username: c.user.username,
      displayName: c.user.displayName,
      presence: presence.effective(c.user),
      personal: c.personal,
      groups: c.groups,
      ...avatarOf(c.user),
      ...(status ? { status } : {}),
    };
  };
  const other = async (me: UserRecord, username: string) => {
    const user = await store.userByName(username);
    if (!user) throw notFound(`user ${username}`);
    if (user.id === me.id) throw new AppError(400, 'invalid_request', 'you cannot be your own contact');
    return user;
  };

  return [
    route({
      method: 'get',
      path: '/api/v1/contacts',
      tag: 'contacts',
      summary: 'My contacts with their presence (personal ones and those shared through groups)',
      access: 'user',
      response: ContactsResponse,
      async handler({ session: { user } }) {
        const now = Date.now();
        return { contacts: (await store.listContacts(user.id)).map((c) => toContact(c, now)) };
      },
    }),
    route({
      method: 'put',
      path: '/api/v1/contacts/:username',
      tag: 'contacts',
      summary: 'Add a contact (201 when new, 200 when already there)',
      access: 'user',
      params: UsernameParams,
      response: ContactResponse,
      otherStatuses: [201],
      async handler({ params, session: { user } }, ctx) {
        const contact = await other(user, params.username);
        if (await store.write((tx) => addContact(tx, user.id, contact.id))) {
          ctx.state.status = 201;
          subscriptions.changed(user.id); // another presence topic
        }
        const record = (await store.listContacts(user.id)).find((c) => c.user.id === contact.id)!;
        return { contact: toContact(record) };
      },
    }),
    route({
      method: 'delete',
      path: '/api/v1/contacts/:username',
      tag: 'contacts',
      summary: 'Remove a personal contact (contacts shared through a group stay while the group does)',
      access: 'user',
      params: UsernameParams,
      response: OkResponse,
      async handler({ params, session: { user } }) {
        const contact = await other(user, params.username);
        if (!(await store.write((tx) => removeContact(tx, user.id, contact.id)))) throw notFound(`${params.username} among your personal contacts`);
        subscriptions.changed(user.id);
        return { ok: true };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/users',
      tag: 'contacts',
      summary: 'Find people by user ID or display name (case-insensitive, anywhere in either), with whether each is on my list already',
      access: 'user',
      query: UserSearchQuery,
      response: UsersResponse,
      async handler({ query, session: { user } }) {
        const [found, mine] = await Promise.all([store.searchUsers(query.q, LIMITS.userSearchResults), store.listContacts(user.id)]);
        const onList = new Map(mine.map((c) => [c.user.id, c.personal]));
        const now = Date.now();
        return { users: found.map((u) => ({ ...publicView(u, now), isContact: onList.has(u.id), personal: onList.get(u.id) ?? false })) };
      },
    }),
  ];
}
