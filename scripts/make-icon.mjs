/**
 * Draws build/icon.png (512x512, RGBA): a portico (pediment, three columns, base) in white on a
 * rounded blue square. Plain node (zlib) so it needs no image library: `node scripts/make-icon.mjs`.
 * electron-builder makes the .ico/.icns from it. The PNG is committed; rerun only to change it.
 */
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 512;
const px = Buffer.alloc(SIZE * SIZE * 4);
const BLUE = [0x1f, 0x5f, 0xa8, 255];
const WHITE = [255, 255, 255, 255];

function inRoundedSquare(x, y, r = 96, m = 16) {
  const lo = m + r, hi = SIZE - m - r;
  if (x < m || y < m || x >= SIZE - m || y >= SIZE - m) return false;
  const cx = Math.min(Math.max(x, lo), hi), cy = Math.min(Math.max(y, lo), hi);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function inPortico(x, y) {
  if (y >= 120 && y < 200 && Math.abs(x - 256) <= (y - 120) * (176 / 80)) return true; // pediment
  if (y >= 204 && y < 222 && x >= 96 && x < 416) return true; // entablature
  if (y >= 236 && y < 380) for (const c of [128, 232, 336]) if (x >= c && x < c + 48) return true; // columns
  if (y >= 388 && y < 408 && x >= 88 && x < 424) return true; // base
  return false;
}

for (let y = 0; y < SIZE; y++) {
  for (let x = 0; x < SIZE; x++) {
    const colour = !inRoundedSquare(x, y) ? [0, 0, 0, 0] : inPortico(x, y) ? WHITE : BLUE;
    px.set(colour, (y * SIZE + x) * 4);
  }
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let y = 0; y < SIZE; y++) px.copy(raw, y * (SIZE * 4 + 1) + 1, y * SIZE * 4, (y + 1) * SIZE * 4); // filter 0 per row
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
writeFileSync(new URL('../build/icon.png', import.meta.url), png);
console.log(`build/icon.png: ${png.length} bytes`);
