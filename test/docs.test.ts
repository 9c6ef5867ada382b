// The documentation against the code: the README's command table against the CLI's own definitions, the
// configuration page against the environment schema, and every relative link against the files in the repository.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/main';
import { EnvSchema } from '../src/config';

const root = path.join(__dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const docsDir = path.join(root, 'docs');
const docs = readdirSync(docsDir)
  .filter((f) => f.endsWith('.md'))
  .map((f) => ({ file: path.join(docsDir, f), text: readFileSync(path.join(docsDir, f), 'utf8') }));

/** Every command a user can type, as `sluice a b`, leaves only (a group such as `schedule` is not a command itself). */
function commandPaths(cmd: Command, prefix = 'sluice'): string[] {
  return cmd.commands.flatMap((c) => {
    const here = `${prefix} ${c.name()}`;
    return c.commands.length > 0 ? commandPaths(c, here) : [here];
  });
}

/** The first cell of each row of the README's Commands table, without its arguments: `sluice schedule create`. */
function readmeCommands(): string[] {
  const section = readme.split(/^## Commands$/m)[1]?.split(/^## /m)[0] ?? '';
  return [...section.matchAll(/^\| `(sluice [^`]+)` \|/gm)].map((m) =>
    m[1]!
      .split(' ')
      .filter((word) => /^[a-z][a-z-]*$/.test(word))
      .join(' '),
  );
}

test('the README stays short: at most 12 KB, with the Quick start of exactly two commands', () => {
  assert.ok(Buffer.byteLength(readme) <= 12 * 1024, `README.md is ${Buffer.byteLength(readme)} bytes`);
  const quick = readme.split(/^## Quick start$/m)[1]?.split(/^```sh$/m)[1]?.split(/^```$/m)[0] ?? '';
  const commands = quick.split('\n').filter((l) => l.trim() !== '').map((l) => l.split('#')[0]!.trim());
  assert.deepEqual(commands, ['npm start', 'npm test']);
});

test("the README's command table lists every command of the CLI, and nothing else", () => {
  const fromCli = commandPaths(buildProgram()).sort();
  const fromReadme = readmeCommands().sort();
  assert.deepEqual(fromReadme, fromCli);
});

test('docs/configuration.md names every variable of the environment schema, and no variable it does not read', () => {
  const page = docs.find((d) => d.file.endsWith('configuration.md'))!.text;
  const environment = page.split(/^## The environment$/m)[1]?.split(/^Read outside the schema/m)[0] ?? '';
  const documented = [...environment.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!).sort();
  assert.deepEqual(documented, Object.keys(EnvSchema.shape).sort());
});

test('every relative link in the README and docs/ points at a file in the repository', () => {
  for (const { file, text } of [{ file: path.join(root, 'README.md'), text: readme }, ...docs]) {
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!) || target!.startsWith('#')) continue;
      const resolved = path.resolve(path.dirname(file), target!.split('#')[0]!);
      assert.ok(resolved.startsWith(root + path.sep), `${path.relative(root, file)} links outside the repository: ${target}`);
      assert.ok(existsSync(resolved), `${path.relative(root, file)} links to a missing file: ${target}`);
    }
  }
});
