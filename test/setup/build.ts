// e2e tests run the built service (dist/) as real processes: build it once before they start
// (with the typed client and the demo page it serves, as `npm run build` does).
import { execFileSync } from 'node:child_process';

export default function build(): void {
  execFileSync(process.execPath, ['node_modules/@nestjs/cli/bin/nest.js', 'build'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['client/build.mjs'], { stdio: 'inherit' });
}
