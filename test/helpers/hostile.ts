// Hostile input for fuzz tests: the values that break naive parsers and validators, the request
// types and DTO fields read from the source (so a new request type or field is fuzzed without
// editing a test), and a bounded-concurrency runner.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Hostile {
  label: string;
  value: unknown;
}

/** An array nested `depth` deep: [[[...]]]. */
export function deepArray(depth: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < depth; i += 1) value = [value];
  return value;
}

/** An object nested `depth` deep: {a:{a:{...}}}. */
export function deepObject(depth: number): unknown {
  let value: unknown = {};
  for (let i = 1; i < depth; i += 1) value = { a: value };
  return value;
}

/** The values every field is replaced with, one at a time. */
export function hostileValues(): Hostile[] {
  return [
    { label: 'null', value: null },
    { label: 'true', value: true },
    { label: 'false', value: false },
    { label: '0', value: 0 },
    { label: '-1', value: -1 },
    { label: '1e308', value: 1e308 },
    { label: '-1e308', value: -1e308 },
    { label: '1e20', value: 1e20 },
    { label: '5e-324', value: 5e-324 },
    { label: 'MAX_SAFE_INTEGER', value: Number.MAX_SAFE_INTEGER },
    { label: "''", value: '' },
    { label: "' '", value: ' ' },
    { label: 'NUL', value: '\u0000' },
    { label: '10,000 chars', value: 'x'.repeat(10_000) },
    { label: "'1e400'", value: '1e400' },
    { label: "'-0'", value: '-0' },
    { label: "'NaN'", value: 'NaN' },
    { label: "'Infinity'", value: 'Infinity' },
    { label: "'0x10'", value: '0x10' },
    { label: 'SQL', value: "'; DROP TABLE users; --" },
    { label: "'__proto__'", value: '__proto__' },
    { label: '[]', value: [] },
    { label: '[null]', value: [null] },
    { label: '{}', value: {} },
    { label: 'own __proto__', value: JSON.parse('{"__proto__":{"admin":true}}') },
    { label: 'constructor.prototype', value: { constructor: { prototype: { x: 1 } } } },
    { label: 'array 40 deep', value: deepArray(40) },
    { label: 'object 40 deep', value: deepObject(40) },
  ];
}

/** Whole payloads that are not objects. */
export function nonObjects(): Hostile[] {
  return [
    { label: 'null', value: null },
    { label: '0', value: 0 },
    { label: '-1', value: -1 },
    { label: '1e308', value: 1e308 },
    { label: "'transfer'", value: 'transfer' },
    { label: "''", value: '' },
    { label: '[]', value: [] },
    { label: '[{}]', value: [{}] },
    { label: 'true', value: true },
    { label: 'false', value: false },
    { label: '[[[[]]]]', value: deepArray(4) },
    { label: 'array 40 deep', value: deepArray(40) },
    { label: '60 KB string', value: 's'.repeat(60_000) },
  ];
}

const sourceFiles = (dir: string): string[] =>
  (readdirSync(dir, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts') && !file.endsWith('.d.ts'))
    .map((file) => join(dir, file));

/** Source text without comment lines (a decorator named in a comment is not a handler). */
const codeOf = (file: string): string =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .join('\n');

/** Property names of every class in `text`, by class name. */
function classFields(text: string, into: Map<string, Set<string>>): void {
  for (const match of text.matchAll(/^export class (\w+)[^{\n]*\{\n([\s\S]*?)^\}/gm)) {
    const fields = into.get(match[1]) ?? new Set<string>();
    for (const property of match[2].matchAll(/^ {2}(?:readonly )?(\w+)[?!]?: [^;]+;/gm)) fields.add(property[1]);
    into.set(match[1], fields);
  }
}

export interface RequestType {
  type: string;
  /** The fields of its request DTO (empty when it takes none or its body is untyped). */
  fields: string[];
}

/**
 * Every socket.io request type (`@UserRequest('name')` or `@SubscribeMessage('name')`) under
 * `srcDir`, with the fields of the DTO its `@MessageBody()` is declared with.
 */
export function discoverRequestTypes(srcDir = 'src'): RequestType[] {
  const files = sourceFiles(srcDir);
  const classes = new Map<string, Set<string>>();
  for (const file of files) classFields(codeOf(file), classes);
  const types = new Map<string, Set<string>>();
  for (const file of files) {
    const parts = codeOf(file).split(/@(?:UserRequest|SubscribeMessage)\(/);
    for (const part of parts.slice(1)) {
      const name = /^\s*['"`]([^'"`]+)['"`]/.exec(part)?.[1];
      if (!name) continue;
      const dto = /@MessageBody\(\)\s*\w+\??:\s*(\w+)/.exec(part)?.[1];
      const fields = types.get(name) ?? new Set<string>();
      for (const field of (dto && classes.get(dto)) || []) fields.add(field);
      types.set(name, fields);
    }
  }
  return [...types]
    .map(([type, fields]) => ({ type, fields: [...fields] }))
    .sort((a, b) => a.type.localeCompare(b.type));
}

/** Property names declared in the request DTO files (`<srcDir>/modules/**\/dto/*.ts`). */
export function dtoFieldNames(srcDir = 'src'): string[] {
  const classes = new Map<string, Set<string>>();
  for (const file of sourceFiles(join(srcDir, 'modules')).filter((f) => /\/dto\/[^/]+\.ts$/.test(f))) {
    classFields(codeOf(file), classes);
  }
  return [...new Set([...classes.values()].flatMap((fields) => [...fields]))].sort();
}

/** Runs `work` on every item with at most `concurrency` in flight. */
export async function runPool<T>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** JSON of a value, cut to `max` characters, for failure reports. */
export function brief(value: unknown, max = 160): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}
