#!/usr/bin/env node
// npm run docs:rest: rewrites the route reference of docs/rest.md from the OpenAPI document of the
// compiled application (dist/), the one /api/docs serves. `--check` only says whether it is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('reflect-metadata');
const { buildOpenApiDocument } = require('../dist/src/api-reference.js');
const { renderRestRoutes, withGeneratedRoutes } = require('../dist/src/core/http/rest-reference.js');

const PAGE = 'docs/rest.md';
const page = readFileSync(PAGE, 'utf8');
const next = withGeneratedRoutes(page, renderRestRoutes(await buildOpenApiDocument()));
if (process.argv.includes('--check')) {
  if (next !== page) {
    console.error(`${PAGE} is stale: run npm run docs:rest`);
    process.exit(1);
  }
  console.log(`${PAGE} is current`);
} else if (next === page) {
  console.log(`${PAGE} is current`);
} else {
  writeFileSync(PAGE, next);
  console.log(`${PAGE} rewritten`);
}
