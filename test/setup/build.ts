// e2e tests run the built service (dist/) as real processes: build it once before they start
// (with the typed client and the demo page it serves, as `npm run build` does). Several projects
// (e2e, faults, client) name this setup; their setups run in the one vitest process, so a build
// done for one of them in this run is not done again.
import { execFileSync } from 'node:child_process';

const BUILT = 'CASHIER_TEST_RUN_BUILT';

export default function build(): void {
  if (process.env[BUILT] === '1') return;
  execFileSync(process.execPath, ['node_modules/@nestjs/cli/bin/nest.js', 'build'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['client/build.mjs'], { stdio: 'inherit' });
  process.env[BUILT] = '1';
}
