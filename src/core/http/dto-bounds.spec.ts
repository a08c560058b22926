// Every integer a request carries is bounded on both sides, and every optional field refuses null:
// checked over the metadata of every request DTO, so a new field cannot forget it.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { getMetadataStorage } from 'class-validator';
import { beforeAll, describe, expect, it } from 'vitest';

const MODULES = join(__dirname, '..', '..', 'modules');
const dtoFiles = readdirSync(MODULES, { recursive: true, encoding: 'utf8' }).filter(
  (file) => file.endsWith('.ts') && !file.endsWith('.spec.ts') && (file.includes('/dto/') || file.endsWith('.dto.ts')),
);

// Loading the DTO files registers their metadata.
beforeAll(async () => {
  for (const file of dtoFiles) await import(join(MODULES, file));
});

interface Metadata {
  name?: string;
  type: string;
  target: object;
  propertyName: string;
  constraints?: unknown[];
}

const storage = getMetadataStorage() as unknown as { validationMetadatas: Map<object, Metadata[]> };

function byProperty(): Map<string, Metadata[]> {
  const properties = new Map<string, Metadata[]>();
  for (const [target, metadatas] of storage.validationMetadatas) {
    for (const metadata of metadatas) {
      const key = `${(target as { name: string }).name}.${metadata.propertyName}`;
      properties.set(key, [...(properties.get(key) ?? []), metadata]);
    }
  }
  return properties;
}

describe('request DTOs', () => {
  it('are loaded', () => {
    expect(dtoFiles.length).toBeGreaterThan(8);
    expect(byProperty().size).toBeGreaterThan(40);
  });

  it('bound every integer field with a minimum and a maximum', () => {
    const unbounded = [...byProperty()]
      .filter(([, list]) => list.some((m) => m.name === 'isInt'))
      .filter(([, list]) => !list.some((m) => m.name === 'max') || !list.some((m) => m.name === 'min'))
      .map(([key]) => key);
    expect(unbounded).toEqual([]);
  });

  it('use no null-accepting IsOptional except where a field says so', () => {
    const nullable = [...byProperty()]
      .filter(([, list]) => list.some((m) => m.type === 'conditionalValidation' && m.name === 'isOptional'))
      .map(([key]) => key);
    // Partners send "error": null on success.
    expect(nullable).toEqual(['PartnerWebhookDto.error']);
  });
});
