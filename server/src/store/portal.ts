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

export type ItemKind = 'ticker' | 'notice' | 'media';

/**
 * Row operations on the portal inside a write (StoreTx.portal). The rules that build ticker,
 * notice, media, chart and links content and announce it are in their features (ticker/,
 * notices/, media/, charts/, links/).
 */
export interface PortalRows {
  /** A channel by name (any case): its id and stored name; StoreError 'not_found' if none. */
  channel(name: string): Promise<{ id: number; name: string }>;
  /** A new item row with an empty body; answers its id (the body needs it: `setItemBody`). */
  insertItem(kind: ItemKind, input: { channelId: number; providerId: number; priority: number; startsAt?: number; expiresAt?: number; createdAt: number }): Promise<number>;
  /** The item's protocol body (what the reads answer). */
  setItemBody(itemId: number, body: object): Promise<void>;
  /** As PortalStore.mediaUsage, inside the write (a quota checked with the write it allows). */
  mediaUsage(providerId: number, sha256: string, now: number): Promise<MediaUsage>;
  /**
   * Adds (or replaces, same time) a series' points, keeping its newest `keep`; a unit given
   * replaces the stored one. Answers the series' stored unit.
   */
  putChartPoints(channelId: number, series: string, unit: string | undefined, points: Array<[number, number]>, keep: number): Promise<string | undefined>;
  /** The links area as set (sanitized already) and when. */
  setLinks(html: string, updatedAt: string): Promise<void>;
}

/** Reads, and the writes that announce nothing (each its own write). */
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

  /** Live items (not expired), at most `perChannel` per channel, by priority then newest. */
  liveTicker(channelIds: number[], now: number, perChannel: number): Promise<TickerItem[]>;

  /** Notices not yet over (those scheduled for later included: clients show them when due). */
  liveNotices(now: number): Promise<Notice[]>;

  chartSeries(channel: string | undefined, series: string | undefined): Promise<ChartSeries[]>;

  /** Records a content-addressed file (once per content); `unpackedSize`: a game's unpacked files. */
  putMediaFile(file: { sha256: string; size: number; contentType: string; kind: MediaKind; unpackedSize?: number }): Promise<void>;
  mediaFile(sha256: string): Promise<{ size: number; contentType: string; kind: MediaKind; unpackedSize: number } | undefined>;
  /**
   * What a provider's live media take on disk (each content once, a game with its unpacked files),
   * and whether this content is among them (then pushing it again costs nothing).
   */
  mediaUsage(providerId: number, sha256: string, now: number): Promise<MediaUsage>;
  liveMedia(now: number): Promise<StoredMedia[]>;
  /**
   * Deletes media items expired by `now` and the file records no item refers to any more;
   * answers how many items went and the contents still referenced (their files must stay).
   */
  deleteExpiredMedia(now: number): Promise<{ items: number; keep: Set<string> }>;

  links(): Promise<{ html: string; updatedAt?: string }>;
}
