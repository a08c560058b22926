import { createSecretKey, type KeyObject } from 'node:crypto';

const keys = new Map<string, KeyObject>();

/**
 * The HS256 key as a KeyObject, made once. Given a string, jsonwebtoken first tries to read it as
 * a public or private key (and fails) on every sign and verify: 0.5 ms each instead of 2 µs.
 */
export function jwtKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, key);
  }
  return key;
}
