#!/usr/bin/env node
// Runs the compiled CLI when there is one (npm run build), else the TypeScript sources through tsx.
const path = require('node:path');
const fs = require('node:fs');
const compiled = path.join(__dirname, '..', 'lib', 'cli', 'main.js');
if (fs.existsSync(compiled)) {
  require(compiled).main(process.argv).then((code) => (process.exitCode = code));
} else {
  require('tsx/cjs');
  require('../src/cli/main.ts').main(process.argv).then((code) => (process.exitCode = code));
}
