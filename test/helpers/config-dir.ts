// A copy of config/ with some files changed, for processes that need other business settings
// (limits raised for a flood of requests, or lowered to reach them quickly). Removed after the file.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { tempDir } from '../setup/infrastructure.js';

/** `edits` maps a file name of config/ to a function of its parsed JSON returning the new content. */
export function configDirWith(edits: Record<string, (json: any) => unknown>): string {
  const dir = tempDir('cashier-config-');
  cpSync('config', dir, { recursive: true });
  for (const [file, edit] of Object.entries(edits)) {
    const path = join(dir, file);
    writeFileSync(path, `${JSON.stringify(edit(JSON.parse(readFileSync(path, 'utf8'))), null, 2)}\n`);
  }
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** plans.json with the per-user request budget and the plans' message rates set. */
export const withLimits =
  (requestsPerMinute: number, messagesPerSecond?: number, maxConnections?: number) => (plans: any) => ({
    ...plans,
    requests_per_minute: requestsPerMinute,
    plans: Object.fromEntries(
      Object.entries(plans.plans as Record<string, any>).map(([name, plan]) => [
        name,
        {
          ...plan,
          ...(messagesPerSecond ? { messages_per_second: messagesPerSecond } : {}),
          ...(maxConnections ? { max_connections: maxConnections } : {}),
        },
      ]),
    ),
  });
