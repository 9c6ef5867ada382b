// Runs before `npm start` and `npm test` (prestart/pretest): on a fresh clone, or when package-lock.json changed
// since the last install, it installs the locked dependencies first, so the README's two commands work as they are.
// Plain Node on purpose: it runs before any dependency exists.
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const lock = path.join(root, 'package-lock.json');
const installed = path.join(root, 'node_modules', '.package-lock.json');

function stale() {
  if (!fs.existsSync(installed)) return true;
  return fs.statSync(lock).mtimeMs > fs.statSync(installed).mtimeMs;
}

if (stale()) {
  console.error('Installing dependencies (npm ci): first run, or package-lock.json changed...');
  execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}
