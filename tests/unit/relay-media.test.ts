import { describe, expect, it } from 'vitest';
import { hasCluster } from '../../electron/renderer/src/calls/relay-media.js';

/** The start of a WebM recording: EBML header and Segment, no media yet (what Chromium's recorder writes before its first frame). */
const HEADER = [0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const CLUSTER = [0x1f, 0x43, 0xb6, 0x75, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xe7, 0x81, 0x00];

describe('relay recordings: media or a bare header', () => {
  it('finds a Cluster (media) and not in a bare header', () => {
    expect(hasCluster(new Uint8Array(HEADER))).toBe(false);
    expect(hasCluster(new Uint8Array([...HEADER, ...CLUSTER]))).toBe(true);
    expect(hasCluster(new Uint8Array(CLUSTER))).toBe(true);
    expect(hasCluster(new Uint8Array(0))).toBe(false);
  });

  it('needs the whole ID: a partial one at the end, or the first byte alone, is not media', () => {
    expect(hasCluster(new Uint8Array([...HEADER, 0x1f, 0x43, 0xb6]))).toBe(false);
    expect(hasCluster(new Uint8Array([0x1f, 0x1f, 0x43, 0xb5, 0x75, 0x1f]))).toBe(false);
    expect(hasCluster(new Uint8Array([0x1f, 0x1f, 0x43, 0xb6, 0x75]))).toBe(true);
  });
});
