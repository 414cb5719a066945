/** The limits of issue 17's pictures, statuses and expiries: plain values (no zod), so the panel imports them without the schemas. */
export const PEOPLE_LIMITS = {
  /** Largest picture a user may upload (bytes); it is stored resized, far smaller. */
  avatarBytes: 5 * 1024 * 1024,
  /** Side of the square the server stores (pixels). */
  avatarSize: 256,
  /** Largest decoded picture the server agrees to resize (pixels), against decompression bombs. */
  avatarInputPixels: 40_000_000,
  statusTextChars: 100,
  /** An emoji may be several code points (flags, skin tones, ZWJ sequences). */
  statusEmojiChars: 16,
  /** Farthest a status, do-not-disturb or mute may be set ahead (days). */
  aheadDays: 366,
} as const;
