/**
 * Fails when modules under src/ import each other in a circle, type-only imports included (ESLint's
 * import-x/no-cycle skips those, yet a type cycle still means a contract lives on the wrong side). Part of
 * `npm run lint`; prints every cycle it finds as a chain of files.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith('.ts') && !full.endsWith('.d.ts') ? [full] : [];
  });
}

function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (candidate.endsWith('.ts') && existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles.map((f) => resolveLocal(file, f.fileName)).filter((f): f is string => f !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Each cycle once, as the files along it (Tarjan's strongly connected components, then one path in each). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component);
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return components.map((c) => pathAround(graph, c));
}

function pathAround(graph: Map<string, string[]>, component: string[]): string[] {
  const inside = new Set(component);
  const start = [...component].sort()[0]!;
  const seen = new Set<string>([start]);
  const walk = (at: string, route: string[]): string[] | undefined => {
    for (const next of graph.get(at) ?? []) {
      if (next === start) return [...route, start];
      if (inside.has(next) && !seen.has(next)) {
        seen.add(next);
        const found = walk(next, [...route, next]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(start, [start]) ?? component;
}

if (require.main === module) {
  const cycles = findCycles(importGraph(sourceFiles(SRC)));
  if (cycles.length === 0) {
    console.log('No import cycles in src/ (type imports included).');
  } else {
    for (const c of cycles) console.error(`Import cycle: ${c.map((f) => path.relative(ROOT, f)).join(' -> ')}`);
    process.exit(1);
  }
}
