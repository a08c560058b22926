// Outside production a missing secret is generated once and kept under DATA_DIR, so `npm start`
// works on a fresh machine and tokens stay valid across restarts.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Secrets = Record<string, string>;

export function devSecret(dataDir: string, name: string): string {
  const file = join(dataDir, 'secrets.json');
  let secrets: Secrets = {};
  try {
    secrets = JSON.parse(readFileSync(file, 'utf8')) as Secrets;
  } catch {
    // first start: the file does not exist yet
  }
  const existing = secrets[name];
  if (typeof existing === 'string' && existing.length >= 32) return existing;
  const value = randomBytes(32).toString('base64url');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify({ ...secrets, [name]: value }, null, 2), { mode: 0o600 });
  return value;
}
