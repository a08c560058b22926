// The API reference as the running service serves it: the OpenAPI document at /api/docs, and
// beside it the realtime one, docs/asyncapi.yaml, rendered at /docs/ws by the standalone bundle of
// @asyncapi/react-component, all from the build (dist/), nothing from a CDN.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';

let app: AppProcess;

beforeAll(async () => {
  app = await spawnApp({ env: testEnv() });
});

afterAll(async () => {
  expect(await app.stop()).toBe(0);
});

const get = (path: string) => fetch(`${app.url}${path}`);

describe('/docs/ws', () => {
  it('is an HTML page that loads only its own scripts and styles', async () => {
    const response = await get('/docs/ws');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources).toEqual(['assets/asyncapi.css', 'asyncapi.yaml', 'assets/asyncapi.js', 'ws.js']);
    // Its own policy: scripts from this origin only (eval for the bundle's schema validator).
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self' 'unsafe-eval';");
  });

  it.each([
    ['/docs/ws.js', 'text/javascript; charset=utf-8', 'AsyncApiStandalone.render'],
    ['/docs/assets/asyncapi.js', 'text/javascript; charset=utf-8', 'AsyncApiStandalone'],
    ['/docs/assets/asyncapi.css', 'text/css; charset=utf-8', '.aui-root'],
  ])('serves %s as %s', async (path, type, content) => {
    const response = await get(path);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(type);
    expect(await response.text()).toContain(content);
  });

  it('serves docs/asyncapi.yaml as the repository has it', async () => {
    const response = await get('/docs/asyncapi.yaml');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/yaml; charset=utf-8');
    expect(await response.text()).toBe(readFileSync('docs/asyncapi.yaml', 'utf8'));
  });

  it('stays outside the /api/v1 prefix, and needs no token', async () => {
    expect((await get('/api/v1/docs/ws')).status).toBe(404);
    expect((await get('/api/docs')).status).toBe(200);
  });
});
