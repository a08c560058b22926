// Builds the typed client (client/dist: an ES module for bundlers and Node, socket.io-client left
// external) and the demo page (dist/demo at the repository root, served by the API at `/`: one
// browser bundle with socket.io-client inside, plus its HTML and CSS). Run by `npm run build`.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const demoOut = join(here, '..', 'dist', 'demo');

await Promise.all([
  build({
    entryPoints: [join(here, 'src', 'index.ts')],
    outfile: join(here, 'dist', 'index.js'),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    external: ['socket.io-client'],
    sourcemap: true,
    logLevel: 'warning',
  }),
  build({
    entryPoints: [join(here, 'demo', 'main.ts')],
    outfile: join(demoOut, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  }),
]);
await mkdir(demoOut, { recursive: true });
for (const file of ['index.html', 'style.css']) await copyFile(join(here, 'demo', file), join(demoOut, file));
