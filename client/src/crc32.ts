// CRC-32 (IEEE 802.3, the polynomial of zlib and of Kraken's book checksum), in plain JavaScript so
// it runs in a browser; in Node it gives exactly what zlib.crc32 gives (crc32.spec.ts checks).
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

const encoder = new TextEncoder();

/** The CRC-32 of a string's UTF-8 bytes, as an unsigned integer. */
export function crc32(text: string): number {
  const bytes = encoder.encode(text);
  let crc = 0xffffffff;
  for (const byte of bytes) crc = TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
