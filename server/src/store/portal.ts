/** The portal part of the Store: channels, providers and what they push. */
import type { ChartSeries, MediaItem, Notice, TickerItem } from '../../../shared/index.js';

export interface ChannelRecord {
  id: number;
  name: string;
  title: string;
  isDefault: boolean;
}

export interface ProviderRecord {
  id: number;
  name: string;
  channels: string[];
  requireSignature: boolean;
  /** The key, encrypted with the server secret (see secrets.ts), for checking signatures. */
  keySealed: string;
  createdAt: number;
}

export type MediaKind = MediaItem['kind'];
/** A media item as stored: its URL is signed afresh whenever it is handed out. */
export type StoredMedia = Omit<MediaItem, 'url'> & { sha256: string };

export interface MediaUsage {
  /** Bytes of the provider's live media and games. */
  used: number;
  /** The provider already holds this content in a live item. */
  holds: boolean;
}
export interface MediaQuota {
  /** Bytes the provider may hold; 0: no quota. */
  limit: number;
  /** What the new content takes (a game with its unpacked files). */
  bytes: number;
  refuse: (usage: MediaUsage) => Error;
}

export interface PortalStore {
  createProvider(input: { name: string; channels: string[]; keyHash: Buffer; keySealed: string; requireSignature: boolean }): Promise<ProviderRecord>;
  providerByKeyHash(keyHash: Buffer): Promise<ProviderRecord | undefined>;
  providerByName(name: string): Promise<ProviderRecord | undefined>;
  listProviders(): Promise<ProviderRecord[]>;
  rotateProviderKey(name: string, keyHash: Buffer, keySealed: string): Promise<ProviderRecord>;
  /** Replaces the channels a provider may push to (creating channels as needed). */
  setProviderChannels(name: string, channels: string[]): Promise<ProviderRecord>;
  deleteProvider(name: string): Promise<boolean>;

  listChannels(): Promise<ChannelRecord[]>;
  updateChannel(name: string, change: { title?: string; isDefault?: boolean }): Promise<ChannelRecord>;
  /** The ticker channels a user chose, in their order (empty: none chosen). */
  channelsOfUser(userId: number): Promise<string[]>;
  setChannelsOfUser(userId: number, names: string[]): Promise<void>;
  /** The ticker channels a user sees: their own choice, or else the defaults. */
  tickerChannelsFor(userId: number): Promise<ChannelRecord[]>;

  addTicker(providerId: number, channel: string, item: { text: string; url?: string; priority: number; expiresAt?: number }): Promise<TickerItem>;
  /** Live items (not expired), at most `perChannel` per channel, by priority then newest. */
  liveTicker(channelIds: number[], now: number, perChannel: number): Promise<TickerItem[]>;

  addNotice(
    providerId: number,
    channel: string,
    notice: { text?: string; html?: string; url?: string; priority: number; startsAt?: number; endsAt?: number },
  ): Promise<Notice>;
  /** Notices not yet over (those scheduled for later included: clients show them when due). */
  liveNotices(now: number): Promise<Notice[]>;

  addChartPoints(channel: string, series: string, unit: string | undefined, points: Array<[number, number]>, keep: number): Promise<ChartSeries>;
  chartSeries(channel: string | undefined, series: string | undefined): Promise<ChartSeries[]>;

  /** Records a content-addressed file (once per content); `unpackedSize`: a game's unpacked files. */
  putMediaFile(file: { sha256: string; size: number; contentType: string; kind: MediaKind; unpackedSize?: number }): Promise<void>;
  mediaFile(sha256: string): Promise<{ size: number; contentType: string; kind: MediaKind; unpackedSize: number } | undefined>;
  /**
   * What a provider's live media take on disk (each content once, a game with its unpacked files),
   * and whether this content is among them (then pushing it again costs nothing).
   */
  mediaUsage(providerId: number, sha256: string, now: number): Promise<MediaUsage>;
  /**
   * Records a media item. With `quota`, checks it in the same transaction (pushes racing each
   * other cannot both slip under it): if the provider does not hold this content yet and
   * used + bytes > limit, throws what `refuse` makes and records nothing.
   */
  addMedia(
    providerId: number,
    channel: string,
    media: { title: string; kind: MediaKind; contentType: string; size: number; sha256: string; priority: number; expiresAt?: number },
    url: (item: StoredMedia) => string,
    quota?: MediaQuota,
  ): Promise<StoredMedia>;
  liveMedia(now: number): Promise<StoredMedia[]>;
  /**
   * Deletes media items expired by `now` and the file records no item refers to any more;
   * answers how many items went and the contents still referenced (their files must stay).
   */
  deleteExpiredMedia(now: number): Promise<{ items: number; keep: Set<string> }>;

  setLinks(html: string): Promise<{ html: string; updatedAt: string }>;
  links(): Promise<{ html: string; updatedAt?: string }>;
}
