#!/usr/bin/env -S node --max-old-space-size=512
// The cpd command. A production image runs the compiled `dist/cli.js`; from a checkout we run the
// TypeScript sources through tsx, so a fresh clone needs no build step.
// The shebang caps V8's heap: what a step holds live is a page or two of rows, but with the
// default limit (a quarter of RAM) V8 lets the heap grow to several times that before it
// collects. 512 MB keeps a million-row sync under 400 MB resident; run `node
// --max-old-space-size=N bin/cpd.js` for more.
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
