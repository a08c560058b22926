// The API reference in docs/ against the code that runs:
// - docs/rest.md's route reference is exactly what the OpenAPI document renders to, and every
//   route of that document describes itself;
// - docs/asyncapi.yaml is a valid AsyncAPI 3.0 document whose socket.io requests are exactly the
//   request types the /user and /public gateways register (read from Nest's metadata of the app
//   as AppModule builds it), and whose channel events are exactly the events RealtimeEventMap
//   declares (read with the TypeScript compiler, declaration merging included);
// - the prose pages name every request type, channel event and error code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser, type Diagnostic } from '@asyncapi/parser';
import type { INestApplication } from '@nestjs/common';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import {
  GATEWAY_METADATA,
  GATEWAY_OPTIONS,
  MESSAGE_MAPPING_METADATA,
  MESSAGE_METADATA,
} from '@nestjs/websockets/constants.js';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPreviewApp } from './api-reference.js';
import { ERROR_STATUS } from './core/errors/error-codes.js';
import { createOpenApiDocument } from './core/http/openapi.js';
import { renderRestRoutes, routesOf, withGeneratedRoutes } from './core/http/rest-reference.js';

let app: INestApplication;
let openApi: OpenAPIObject;

beforeAll(async () => {
  app = await createPreviewApp();
  openApi = createOpenApiDocument(app);
}, 60_000);

afterAll(async () => {
  await app?.close();
});

describe('docs/rest.md', () => {
  it('is current: `npm run docs:rest` rewrites it from the OpenAPI document', () => {
    const page = readFileSync('docs/rest.md', 'utf8');
    expect(withGeneratedRoutes(page, renderRestRoutes(openApi))).toBe(page);
  });

  it('covers routes that describe themselves: a summary, a tag, a success answer with its shape', () => {
    const undocumented = routesOf(openApi)
      .filter(({ operation }) => {
        const success = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'));
        return !operation.summary || !operation.tags?.length || !success.some(([, r]) => r.description);
      })
      .map(({ method, path }) => `${method} ${path}`);
    expect(undocumented).toEqual([]);
  });

  it('documents each field of every request body (no DTO without @ApiProperty)', () => {
    const bare = routesOf(openApi)
      .filter(({ operation }) => {
        const schema = operation.requestBody?.content?.['application/json']?.schema;
        if (!schema?.$ref) return false;
        const model = openApi.components?.schemas?.[schema.$ref.split('/').pop()!] as { properties?: object };
        return Object.keys(model?.properties ?? {}).length === 0;
      })
      .map(({ method, path }) => `${method} ${path}`);
    expect(bare).toEqual([]);
  });
});

// --- what the code declares ---

/** Request types (`@SubscribeMessage`) of the gateways of each namespace, as Nest registers them. */
function gatewayRequestTypes(nest: INestApplication): Map<string, Set<string>> {
  const scanner = new MetadataScanner();
  const byNamespace = new Map<string, Set<string>>();
  const seen = new Set<unknown>();
  for (const module of nest.get(ModulesContainer).values()) {
    for (const wrapper of module.providers.values()) {
      const type = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!type || seen.has(type) || !Reflect.getMetadata(GATEWAY_METADATA, type)) continue;
      seen.add(type);
      const namespace = String((Reflect.getMetadata(GATEWAY_OPTIONS, type) as { namespace?: string }).namespace);
      const types = byNamespace.get(namespace) ?? new Set<string>();
      byNamespace.set(namespace, types);
      const prototype = type.prototype as Record<string, unknown>;
      for (const method of scanner.getAllMethodNames(prototype)) {
        const handler = prototype[method] as object;
        if (Reflect.getMetadata(MESSAGE_MAPPING_METADATA, handler)) {
          types.add(String(Reflect.getMetadata(MESSAGE_METADATA, handler)));
        }
      }
    }
  }
  return byNamespace;
}

/**
 * The keys of RealtimeEventMap: the interface and every augmentation of it (a file can only add
 * to it with `interface RealtimeEventMap`, so the files that say so are the program). The
 * compiler merges the declarations; every file must have contributed one, or its module
 * specifier did not resolve to realtime.types.ts.
 */
function realtimeEventNames(): string[] {
  const typesFile = join(process.cwd(), 'src/core/realtime/realtime.types.ts');
  const sources = ts.sys
    .readDirectory(join(process.cwd(), 'src'), ['.ts'])
    .filter((file) => !file.endsWith('.spec.ts') && /\binterface RealtimeEventMap\b/.test(ts.sys.readFile(file) ?? ''));
  expect(sources).toContain(typesFile);
  // noResolve and noLib: only these files' declarations are needed, which keeps this at ~0.1 s.
  const program = ts.createProgram({
    rootNames: sources,
    options: {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      noResolve: true,
      noLib: true,
      types: [],
    },
  });
  const checker = program.getTypeChecker();
  const symbol = checker
    .getSymbolAtLocation(program.getSourceFile(typesFile)!)!
    .exports!.get('RealtimeEventMap' as ts.__String)!;
  const declaredIn = new Set(symbol.declarations!.map((d) => d.getSourceFile().fileName));
  expect([...declaredIn].sort()).toEqual([...sources].sort());
  return checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol)).map((p) => p.getName());
}

/** Channel events emitted outside the typed publisher, each with where the code emits it. */
const EVENTS_OUTSIDE_THE_MAP: Record<string, { file: string; text: string }> = {
  // The depth channels' snapshot, sent to a joining socket by channel delivery (not stored).
  'market-depth-snapshot': {
    file: 'src/modules/market/market-realtime.registration.ts',
    text: "event: 'market-depth-snapshot'",
  },
};

/** Both ways at once, so a failure names what to add to the document or to take out of it. */
function difference(inCode: Iterable<string>, inDocument: Iterable<string>) {
  const code = new Set(inCode);
  const document = new Set(inDocument);
  return {
    inTheCodeButNotInTheDocument: [...code].filter((name) => !document.has(name)).sort(),
    inTheDocumentButNotInTheCode: [...document].filter((name) => !code.has(name)).sort(),
  };
}

const NO_DIFFERENCE = { inTheCodeButNotInTheDocument: [], inTheDocumentButNotInTheCode: [] };

// --- what the document says ---

/** DiagnosticSeverity.Error (@stoplight/types; the parser's typings carry their own copy of the enum). */
const ERROR: Diagnostic['severity'] = 0;

interface JsonMessage {
  name?: string;
  payload?: JsonSchema;
  'x-source-events'?: string[];
}

interface JsonSchema {
  const?: unknown;
  pattern?: string;
  enum?: unknown[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
}

interface JsonOperation {
  action: 'send' | 'receive';
  channel: { address: string };
  messages: JsonMessage[];
  reply?: { messages?: JsonMessage[] };
}

/** `properties.<name>` of a schema and of its allOf parts; the most specific one (a const, a pattern, an enum). */
function propertyOf(schema: JsonSchema | undefined, name: string): JsonSchema | undefined {
  const candidates: JsonSchema[] = [];
  const collect = (part: JsonSchema | undefined) => {
    if (!part) return;
    if (part.properties?.[name]) candidates.push(part.properties[name]);
    part.allOf?.forEach(collect);
  };
  collect(schema);
  return (
    candidates.find((c) => c.const !== undefined) ??
    candidates.find((c) => c.pattern !== undefined || c.enum !== undefined) ??
    candidates[0]
  );
}

describe('docs/asyncapi.yaml', () => {
  let operations: JsonOperation[];
  let errorCodes: unknown[];
  let diagnostics: Diagnostic[];
  let gateways: Map<string, Set<string>>;

  beforeAll(async () => {
    const parsed = await new Parser().parse(readFileSync('docs/asyncapi.yaml', 'utf8'));
    diagnostics = parsed.diagnostics;
    const json = parsed.document?.json<{
      operations?: Record<string, JsonOperation>;
      components?: { schemas?: Record<string, JsonSchema> };
    }>();
    operations = Object.values(json?.operations ?? {});
    errorCodes = json?.components?.schemas?.ErrorCode?.enum ?? [];
    gateways = gatewayRequestTypes(app);
  }, 60_000);

  const operationsOf = (address: string, action: JsonOperation['action']) =>
    operations.filter((operation) => operation.channel.address === address && operation.action === action);

  /** The socket.io events a client may send on a namespace, as the document names them. */
  const documentedRequests = (address: string) =>
    new Set(operationsOf(address, 'receive').flatMap((operation) => operation.messages.map((m) => String(m.name))));

  /** Every channel event the document describes: `stream` frames, and what plain framings translate. */
  function documentedEvents(): { named: Set<string>; patterned: JsonMessage[] } {
    const named = new Set<string>();
    const patterned: JsonMessage[] = [];
    for (const operation of operations) {
      for (const message of operation.messages) {
        for (const event of message['x-source-events'] ?? []) named.add(event);
        if (operation.action !== 'send' || message.name !== 'stream') continue;
        const event = propertyOf(message.payload, 'event');
        if (typeof event?.const === 'string') named.add(event.const);
        else patterned.push(message);
      }
    }
    return { named, patterned };
  }

  it('is valid AsyncAPI 3.0: the parser reports no error', () => {
    const errors = diagnostics.filter((d) => d.severity === ERROR).map((d) => `${d.path.join('.')}: ${d.message}`);
    expect(errors).toEqual([]);
    expect(operations.length).toBeGreaterThan(40);
    const withoutPayload = operations
      .flatMap((operation) => [...operation.messages, ...(operation.reply?.messages ?? [])])
      .filter((message) => message.payload === undefined)
      .map((message) => message.name);
    expect(withoutPayload).toEqual([]);
  });

  it.each(['/user', '/public'])('has exactly the request types the %s gateways register', (namespace) => {
    const registered = [...(gateways.get(namespace) ?? [])].sort();
    expect(registered.length).toBeGreaterThan(0);
    expect(difference(registered, documentedRequests(namespace))).toEqual(NO_DIFFERENCE);
  });

  it('covers no namespace the gateways do not serve, and every one they do', () => {
    expect([...gateways.keys()].sort()).toEqual(['/public', '/user']);
  });

  it('has exactly the channel events of RealtimeEventMap (and the snapshot channel delivery sends)', () => {
    const declared = realtimeEventNames();
    expect(declared.length).toBeGreaterThan(10);
    for (const [event, { file, text }] of Object.entries(EVENTS_OUTSIDE_THE_MAP)) {
      expect(readFileSync(file, 'utf8'), `${event} is still emitted in ${file}`).toContain(text);
    }
    const { named, patterned } = documentedEvents();
    expect(difference([...declared, ...Object.keys(EVENTS_OUTSIDE_THE_MAP)], named)).toEqual(NO_DIFFERENCE);
    // The only event without a fixed name: a setting's `<key>_updated` on `settings`.
    expect(patterned.map((message) => propertyOf(message.payload, 'channel')?.const)).toEqual(['settings']);
  });

  it('offers every /user request on /cashier/svc/ws, under the same type', () => {
    const [request] = operationsOf('/cashier/svc/ws', 'receive').flatMap((operation) => operation.messages);
    const offered = (propertyOf(request.payload, 'type')?.enum ?? []) as string[];
    const expected = [...(gateways.get('/user') ?? [])].filter((type) => type !== 'channel' && type !== 'leave');
    expect(difference([...expected, 'ping', 'subscribe', 'unsubscribe'], offered)).toEqual(NO_DIFFERENCE);
  });

  it('knows every stable error code, and no other', () => {
    expect(difference(Object.keys(ERROR_STATUS), errorCodes as string[])).toEqual(NO_DIFFERENCE);
  });
});

describe('the prose pages of docs/', () => {
  /** Names written as code (`name`) on a page. */
  const codeSpans = (page: string) =>
    new Set([...readFileSync(page, 'utf8').matchAll(/`([^`\n]+)`/g)].map((match) => match[1]));

  it('docs/requests.md names every request type of /user', () => {
    const named = codeSpans('docs/requests.md');
    const registered = [...(gatewayRequestTypes(app).get('/user') ?? [])];
    expect(registered.filter((type) => !named.has(type))).toEqual([]);
  });

  it('docs/events.md names every channel event', () => {
    const named = codeSpans('docs/events.md');
    const events = [...realtimeEventNames(), ...Object.keys(EVENTS_OUTSIDE_THE_MAP)];
    expect(events.filter((event) => !named.has(event))).toEqual([]);
  });

  it('docs/errors.md explains every error code', () => {
    const named = codeSpans('docs/errors.md');
    expect(Object.keys(ERROR_STATUS).filter((code) => !named.has(code))).toEqual([]);
  });
});
