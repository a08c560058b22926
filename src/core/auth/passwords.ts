// Password hashing with argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane).
import argon2 from 'argon2';

const OPTIONS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

let dummyHash: Promise<string> | undefined;

/**
 * Checks a password against a stored hash. With no stored hash (unknown account) a dummy hash is
 * checked instead, so both answers take the same time and reveal nothing.
 */
export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  dummyHash ??= hashPassword('dummy password used to equalise timing');
  const hash = storedHash ?? (await dummyHash);
  try {
    const ok = await argon2.verify(hash, password);
    return ok && storedHash !== undefined;
  } catch {
    return false;
  }
}
