/** What IT admins do with content providers: one implementation for the admin API and the CLI. */
import { CreateProviderRequest } from '../../../shared/index.js';
import { notFound } from '../errors.js';
import type { ServerSecret } from '../secrets.js';
import type { ProviderRecord } from '../store/portal.js';
import type { Store } from '../store/store.js';
import { hashKey, newProviderKey } from './cgi.js';

export const publicProvider = (p: ProviderRecord) => ({
  id: p.id,
  name: p.name,
  channels: p.channels,
  requireSignature: p.requireSignature,
  createdAt: new Date(p.createdAt).toISOString(),
});

export class ProviderAdmin {
  constructor(
    private readonly store: Store,
    private readonly secret: ServerSecret,
    /** Channels may have been created: ticker subscriptions change. */
    private readonly channelsChanged: () => void = () => {},
  ) {}

  /** Creates a provider (and its channels as needed); the key is returned only now. */
  async create(input: { name: string; channels: string[]; requireSignature?: boolean }) {
    const valid = CreateProviderRequest.parse(input);
    const key = newProviderKey();
    const provider = await this.store.portal.createProvider({
      name: valid.name,
      channels: valid.channels,
      keyHash: hashKey(key),
      keySealed: this.secret.seal(key),
      requireSignature: valid.requireSignature,
    });
    this.channelsChanged();
    return { provider, key };
  }

  /** A new key; the old one stops working at once. */
  async rotate(name: string) {
    const key = newProviderKey();
    const provider = await this.store.portal.rotateProviderKey(name, hashKey(key), this.secret.seal(key));
    return { provider, key };
  }

  /** Replaces the channels it may push to (made as needed); its key stays. */
  async setChannels(name: string, channels: string[]) {
    const valid = CreateProviderRequest.pick({ channels: true }).parse({ channels });
    const provider = await this.store.portal.setProviderChannels(name, valid.channels);
    this.channelsChanged();
    return provider;
  }

  async remove(name: string) {
    if (!(await this.store.portal.deleteProvider(name))) throw notFound(`provider ${name}`);
  }

  list() {
    return this.store.portal.listProviders();
  }
}
