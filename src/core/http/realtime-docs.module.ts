// The realtime API reference beside the REST one (/api/docs): docs/asyncapi.yaml rendered at
// /docs/ws by @asyncapi/react-component's standalone bundle, and the YAML itself. Everything is
// served from here (no CDN): the build copies the YAML and the bundle into dist/ (nest-cli.json
// assets), and running from the sources reads them from the repository and node_modules.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header, Module, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/auth.decorators.js';
import { DomainError } from '../errors/domain-error.js';

/** The routes, for the global prefix to leave alone (configure-http.ts). */
export const REALTIME_DOCS_ROUTES = [
  'docs/ws',
  'docs/ws.js',
  'docs/asyncapi.yaml',
  'docs/assets/asyncapi.js',
  'docs/assets/asyncapi.css',
];

/** dist/ when built (this file is dist/src/core/http/), the repository when run from the sources. */
const ROOT = join(__dirname, '..', '..', '..');
const COMPONENT = join('node_modules', '@asyncapi', 'react-component');

/** The first of `paths` that exists (the build's copy, else the sources'). */
const firstExisting = (...paths: string[]): string | undefined => paths.find((path) => existsSync(path));

const FILES = {
  yaml: firstExisting(join(ROOT, 'docs', 'asyncapi.yaml')),
  bundle: firstExisting(
    join(ROOT, 'vendor', COMPONENT, 'browser', 'standalone', 'index.js'),
    join(ROOT, COMPONENT, 'browser', 'standalone', 'index.js'),
  ),
  css: firstExisting(
    join(ROOT, 'vendor', COMPONENT, 'styles', 'default.min.css'),
    join(ROOT, COMPONENT, 'styles', 'default.min.css'),
  ),
};

// Relative URLs, so the page works behind a proxy that mounts the service under a path.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cashier: realtime API (socket.io and WebSockets)</title>
<link rel="stylesheet" href="assets/asyncapi.css">
</head>
<body>
<noscript>This page needs JavaScript. The document itself: <a href="asyncapi.yaml">asyncapi.yaml</a>.</noscript>
<div id="asyncapi"></div>
<script src="assets/asyncapi.js"></script>
<script src="ws.js"></script>
</body>
</html>
`;

const INIT = `// Renders asyncapi.yaml (AsyncAPI 3.0) with the standalone bundle of @asyncapi/react-component.
AsyncApiStandalone.render(
  {
    schema: { url: new URL('asyncapi.yaml', window.location.href).href, options: { method: 'GET' } },
    config: { show: { sidebar: true, errors: true }, sidebar: { showOperations: 'byDefault' } },
  },
  document.getElementById('asyncapi'),
);
`;

/**
 * The page's own policy: the bundle's schema validator (ajv) compiles validators with
 * `new Function`, which the rest of the service's policy (helmet's) forbids.
 */
const PAGE_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'self'",
].join('; ');

const ASSET_CACHE = 'public, max-age=3600';

@ApiExcludeController()
@Public()
@Controller('docs')
export class RealtimeDocsController {
  @Get('ws')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', PAGE_POLICY)
  page(): string {
    return PAGE;
  }

  @Get('ws.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  init(): string {
    return INIT;
  }

  @Get('asyncapi.yaml')
  yaml(@Res() res: Response): void {
    send(res, FILES.yaml, 'application/yaml; charset=utf-8', 'no-cache');
  }

  @Get('assets/asyncapi.js')
  bundle(@Res() res: Response): void {
    send(res, FILES.bundle, 'text/javascript; charset=utf-8', ASSET_CACHE);
  }

  @Get('assets/asyncapi.css')
  css(@Res() res: Response): void {
    send(res, FILES.css, 'text/css; charset=utf-8', ASSET_CACHE);
  }
}

function send(res: Response, path: string | undefined, type: string, cache: string): void {
  // Only when the build left it out (a dist/ built without the assets of nest-cli.json).
  if (!path) throw new DomainError('NOT_FOUND', 'this file is not part of this build');
  res.type(type);
  res.setHeader('Cache-Control', cache);
  res.sendFile(path, { cacheControl: false });
}

@Module({ controllers: [RealtimeDocsController] })
export class RealtimeDocsModule {}
