#!/usr/bin/env node
// The `sluice` command. An installed package runs its compiled JavaScript (lib/, built by `npm run build` before
// packing); a checkout, which has src/, runs the TypeScript sources through tsx, so a stale lib/ never runs there.
const path = require('node:path');
const fs = require('node:fs');
const root = path.join(__dirname, '..');
const sources = path.join(root, 'src', 'cli', 'main.ts');
let cli;
if (fs.existsSync(sources) && resolvable('tsx/cjs')) {
  require('tsx/cjs');
  cli = require(sources);
} else {
  cli = require(path.join(root, 'lib', 'cli', 'main.js'));
}
cli.main(process.argv).then((code) => (process.exitCode = code));

function resolvable(id) {
  try {
    require.resolve(id);
    return true;
  } catch {
    return false;
  }
}
