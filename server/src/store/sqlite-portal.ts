/** SQLite implementation of the portal part of the Store; shares the main store's connection and group commit. */
import type { ChartSeries, Notice, TickerItem } from '../../../shared/index.js';
import { StoreError } from './errors.js';
import type { ItemKind, MediaKind, MediaUsage, PortalRows, PortalStore, ProviderRecord, StoredMedia } from './portal.js';
import type { Prepare } from './statements.js';
import { toChannel, type Row } from './rows.js';
import type { Engine, Synchronous } from './sqlite-engine.js';

/** Drops undefined fields, so optional protocol fields are absent rather than null. */
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** What a provider's live media take, and whether it holds this content (PortalStore.mediaUsage). */
function usage(prepare: Prepare, providerId: number, sha256: string, now: number): MediaUsage {
  const live = "SELECT json_extract(body, '$.sha256') FROM items WHERE kind = 'media' AND provider_id = @p AND (expires_at IS NULL OR expires_at > @now)";
  const used = prepare(`SELECT coalesce(sum(size + unpacked_size), 0) FROM media_files WHERE sha256 IN (${live})`)
    .pluck().get({ p: providerId, now }) as number;
  const holds = prepare(`SELECT EXISTS (${live} AND json_extract(body, '$.sha256') = @sha)`)
    .pluck().get({ p: providerId, now, sha: sha256 }) as number;
  return { used, holds: holds === 1 };
}

export class SqlitePortalStore implements PortalStore {
  constructor(private readonly e: Engine) {}

  // ---------------------------------------------------------------- providers and channels
  private channelId(name: string): number {
    const id = this.e.prepare('SELECT id FROM channels WHERE name = ?').pluck().get(name) as number | undefined;
    if (id === undefined) throw new StoreError('not_found', `channel ${name}`);
    return id;
  }

  private provider(where: 'key_hash' | 'name' | 'id', value: unknown): ProviderRecord | undefined {
    const r = this.e.prepare(`SELECT * FROM providers WHERE ${where} = ?`).get(value) as Row | undefined;
    if (!r) return undefined;
    const channels = this.e.prepare('SELECT c.name FROM provider_channels pc JOIN channels c ON c.id = pc.channel_id WHERE pc.provider_id = ? ORDER BY c.name')
      .pluck()
      .all(r.id) as string[];
    return { id: r.id, name: r.name, channels, requireSignature: r.require_signature === 1, keySealed: r.key_sealed, createdAt: r.created_at };
  }

  createProvider(input: { name: string; channels: string[]; keyHash: Buffer; keySealed: string; requireSignature: boolean }) {
    return this.e.write(() => {
      if (this.provider('name', input.name)) throw new StoreError('unique', `the provider ${input.name}`);
      const now = Date.now();
      const id = Number(
        this.e.prepare('INSERT INTO providers (name, key_hash, key_sealed, require_signature, created_at) VALUES (?, ?, ?, ?, ?)')
          .run(input.name, input.keyHash, input.keySealed, input.requireSignature ? 1 : 0, now).lastInsertRowid,
      );
      this.grantChannels(id, input.channels, now);
      return this.provider('id', id)!;
    });
  }

  /** Gives a provider these channels, creating the missing ones (inside a write). */
  private grantChannels(providerId: number, channels: string[], now: number) {
    const ensure = this.e.prepare('INSERT INTO channels (name, title, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING');
    const grant = this.e.prepare('INSERT OR IGNORE INTO provider_channels (provider_id, channel_id) VALUES (?, ?)');
    for (const name of channels) {
      ensure.run(name.toLowerCase(), name, now);
      grant.run(providerId, this.channelId(name));
    }
  }

  setProviderChannels(name: string, channels: string[]) {
    return this.e.write(() => {
      const provider = this.provider('name', name);
      if (!provider) throw new StoreError('not_found', `provider ${name}`);
      this.e.prepare('DELETE FROM provider_channels WHERE provider_id = ?').run(provider.id);
      this.grantChannels(provider.id, channels, Date.now());
      return this.provider('id', provider.id)!;
    });
  }

  providerByKeyHash(keyHash: Buffer) {
    return this.e.read(() => this.provider('key_hash', keyHash));
  }

  providerByName(name: string) {
    return this.e.read(() => this.provider('name', name));
  }

  listProviders() {
    return this.e.read(() => (this.e.prepare('SELECT id FROM providers ORDER BY name').pluck().all() as number[]).map((id) => this.provider('id', id)!));
  }

  rotateProviderKey(name: string, keyHash: Buffer, keySealed: string) {
    return this.e.write(() => {
      if (this.e.prepare('UPDATE providers SET key_hash = ?, key_sealed = ? WHERE name = ?').run(keyHash, keySealed, name).changes === 0) {
        throw new StoreError('not_found', `provider ${name}`);
      }
      return this.provider('name', name)!;
    });
  }

  deleteProvider(name: string) {
    return this.e.write(() => this.e.prepare('DELETE FROM providers WHERE name = ?').run(name).changes > 0);
  }

  listChannels() {
    return this.e.read(() => (this.e.prepare('SELECT * FROM channels ORDER BY name').all() as Row[]).map(toChannel));
  }

  updateChannel(name: string, change: { title?: string; isDefault?: boolean }) {
    return this.e.write(() => {
      const id = this.channelId(name);
      if (change.title !== undefined) this.e.prepare('UPDATE channels SET title = ? WHERE id = ?').run(change.title, id);
      if (change.isDefault !== undefined) this.e.prepare('UPDATE channels SET is_default = ? WHERE id = ?').run(change.isDefault ? 1 : 0, id);
      return toChannel(this.e.prepare('SELECT * FROM channels WHERE id = ?').get(id) as Row);
    });
  }

  channelsOfUser(userId: number) {
    return this.e.read(
      () =>
        this.e.prepare('SELECT c.name FROM user_channels uc JOIN channels c ON c.id = uc.channel_id WHERE uc.user_id = ? ORDER BY uc.position')
          .pluck()
          .all(userId) as string[],
    );
  }

  setChannelsOfUser(userId: number, names: string[]) {
    return this.e.write(() => {
      const ids = names.map((n) => this.channelId(n));
      this.e.prepare('DELETE FROM user_channels WHERE user_id = ?').run(userId);
      const add = this.e.prepare('INSERT OR IGNORE INTO user_channels (user_id, channel_id, position) VALUES (?, ?, ?)');
      ids.forEach((id, position) => add.run(userId, id, position));
    });
  }

  tickerChannelsFor(userId: number) {
    return this.e.read(() => {
      const mine = this.e.prepare('SELECT c.* FROM user_channels uc JOIN channels c ON c.id = uc.channel_id WHERE uc.user_id = ? ORDER BY uc.position')
        .all(userId) as Row[];
      const rows = mine.length > 0 ? mine : (this.e.prepare('SELECT * FROM channels WHERE is_default = 1 ORDER BY name').all() as Row[]);
      return rows.map(toChannel);
    });
  }

  // ---------------------------------------------------------------- reads
  private liveItems<T>(kind: string, now: number, extra = '', params: unknown[] = [], limit = 200): T[] {
    return (
      this.e.prepare(
        `SELECT body FROM items WHERE kind = ? AND (expires_at IS NULL OR expires_at > ?) ${extra} ORDER BY priority DESC, id DESC LIMIT ?`,
      ).pluck().all(kind, now, ...params, limit) as string[]
    ).map((b) => JSON.parse(b) as T);
  }

  liveTicker(channelIds: number[], now: number, perChannel: number) {
    return this.e.read(() => channelIds.flatMap((id) => this.liveItems<TickerItem>('ticker', now, 'AND channel_id = ?', [id], perChannel)));
  }

  liveNotices(now: number) {
    return this.e.read(() => this.liveItems<Notice>('notice', now));
  }

  chartSeries(channel: string | undefined, series: string | undefined) {
    return this.e.read(() => {
      const rows = this.e.prepare(
        `SELECT s.channel_id, c.name AS channel, s.series, s.unit FROM chart_series s JOIN channels c ON c.id = s.channel_id
         WHERE (@channel IS NULL OR c.name = @channel) AND (@series IS NULL OR s.series = @series) ORDER BY c.name, s.series`,
      ).all({ channel: channel ?? null, series: series ?? null }) as Row[];
      const points = this.e.prepare('SELECT t, value FROM chart_points WHERE channel_id = ? AND series = ? ORDER BY t');
      return rows.map((r) =>
        defined<ChartSeries>({
          channel: r.channel,
          series: r.series,
          unit: r.unit ?? undefined,
          points: (points.all(r.channel_id, r.series) as Row[]).map((p): [number, number] => [p.t, p.value]),
        }),
      );
    });
  }

  putMediaFile(file: { sha256: string; size: number; contentType: string; kind: MediaKind; unpackedSize?: number }) {
    return this.e.write(() => {
      this.e.prepare('INSERT OR IGNORE INTO media_files (sha256, size, content_type, kind, created_at, unpacked_size) VALUES (?, ?, ?, ?, ?, ?)')
        .run(file.sha256, file.size, file.contentType, file.kind, Date.now(), file.unpackedSize ?? 0);
    });
  }

  mediaFile(sha256: string) {
    return this.e.read(() => {
      const r = this.e.prepare('SELECT size, content_type, kind, unpacked_size FROM media_files WHERE sha256 = ?').get(sha256) as Row | undefined;
      return r && { size: r.size as number, contentType: r.content_type as string, kind: r.kind as MediaKind, unpackedSize: r.unpacked_size as number };
    });
  }

  mediaUsage(providerId: number, sha256: string, now: number) {
    return this.e.read(() => usage(this.e.prepare, providerId, sha256, now));
  }

  liveMedia(now: number) {
    return this.e.read(() => this.liveItems<StoredMedia>('media', now));
  }

  deleteExpiredMedia(now: number) {
    return this.e.write(() => {
      const items = this.e.prepare("DELETE FROM items WHERE kind = 'media' AND expires_at IS NOT NULL AND expires_at <= ?").run(now).changes;
      this.e.prepare("DELETE FROM media_files WHERE sha256 NOT IN (SELECT json_extract(body, '$.sha256') FROM items WHERE kind = 'media' AND json_extract(body, '$.sha256') IS NOT NULL)").run();
      const keep = new Set(this.e.prepare('SELECT sha256 FROM media_files').pluck().all() as string[]);
      return { items, keep };
    });
  }

  links() {
    return this.e.read(() => {
      const get = this.e.prepare('SELECT value FROM meta WHERE key = ?').pluck();
      const html = (get.get('links_html') as string | undefined) ?? '';
      const updatedAt = get.get('links_updated_at') as string | undefined;
      return updatedAt ? { html, updatedAt } : { html };
    });
  }
}

/** The portal's row operations inside a write (StoreTx.portal), synchronous: the store gives writes their async face. */
export class SqlitePortalRows implements Synchronous<PortalRows> {
  constructor(private readonly e: Pick<Engine, 'prepare'>) {}

  channel(name: string) {
    const r = this.e.prepare('SELECT id, name FROM channels WHERE name = ?').get(name) as { id: number; name: string } | undefined;
    if (!r) throw new StoreError('not_found', `channel ${name}`);
    return r;
  }

  insertItem(kind: ItemKind, at: { channelId: number; providerId: number; priority: number; startsAt?: number; expiresAt?: number; createdAt: number }) {
    return Number(
      this.e.prepare('INSERT INTO items (kind, channel_id, provider_id, body, priority, starts_at, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(kind, at.channelId, at.providerId, '{}', at.priority, at.startsAt ?? null, at.expiresAt ?? null, at.createdAt).lastInsertRowid,
    );
  }

  setItemBody(itemId: number, body: object) {
    this.e.prepare('UPDATE items SET body = ? WHERE id = ?').run(JSON.stringify(body), itemId);
  }

  putChartPoints(channelId: number, series: string, unit: string | undefined, points: Array<[number, number]>, keep: number) {
    this.e.prepare('INSERT INTO chart_series (channel_id, series, unit) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET unit = coalesce(excluded.unit, unit)')
      .run(channelId, series, unit ?? null);
    const put = this.e.prepare('INSERT OR REPLACE INTO chart_points (channel_id, series, t, value) VALUES (?, ?, ?, ?)');
    for (const [t, v] of points) put.run(channelId, series, t, v);
    this.e.prepare(
      `DELETE FROM chart_points WHERE channel_id = @c AND series = @s AND t < (
         SELECT t FROM chart_points WHERE channel_id = @c AND series = @s ORDER BY t DESC LIMIT 1 OFFSET @skip)`,
    ).run({ c: channelId, s: series, skip: keep - 1 });
    return (this.e.prepare('SELECT unit FROM chart_series WHERE channel_id = ? AND series = ?').pluck().get(channelId, series) as string | null) ?? undefined;
  }

  setLinks(html: string, updatedAt: string) {
    const set = this.e.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    set.run('links_html', html);
    set.run('links_updated_at', updatedAt);
  }

  mediaUsage(providerId: number, sha256: string, now: number) {
    return usage(this.e.prepare, providerId, sha256, now);
  }
}
