// Idempotency keys for money-moving requests (contract section 3: at most 64 characters; the same
// key with the same body within 24 h returns the first response and moves no money again).
// crypto.getRandomValues exists in every browser (secure context or not) and in Node.

/** A random key: 128 bits, hex, prefixed so a key made by this client is recognisable in logs. */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return `ck_${hex}`;
}
