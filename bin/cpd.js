#!/usr/bin/env node
// The cpd command. A production image runs the compiled `dist/cli.js`; from a checkout we run the
// TypeScript sources through tsx, so a fresh clone needs no build step.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (process.env.CPD_USE_DIST === '1' && existsSync(compiled)) {
  await import(compiled);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
