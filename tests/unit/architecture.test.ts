// The architecture as the folders show it, checked on the source itself: imports run one way
// between the engine's folders, nothing imports in a circle, the page never reaches tfjs, and no
// module has grown to own several jobs.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/shared.js';

interface Import {
  target: string;
  /** Erased at compile time (`import type`, or every name imported as a type). */
  typeOnly: boolean;
}

const ROOTS = ['src', 'workers', 'models', 'bench'];
const SOURCE = /\.ts$/;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(full);
    return SOURCE.test(e.name) && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

const IMPORT =
  /(?:^|\n)\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;

/** Every import of a file: relative ones resolved to files, packages by name. */
function importsOf(file: string, text = fs.readFileSync(file, 'utf8')): Import[] {
  const found: Import[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[4] ?? m[5] ?? m[6]!;
    const names = m[3] ?? '';
    const typeOnly =
      m[2] !== undefined || (/^\{[^}]*\}$/.test(names.trim()) && /^\{\s*(type\s+[^,}]+,?\s*)+\}$/.test(names.trim()));
    const target = spec.startsWith('.') ? path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')) : spec;
    found.push({ target, typeOnly });
  }
  return found;
}

const root = ROOT;
const files = ROOTS.flatMap((r) => sourceFiles(path.join(root, r)));
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const rel = (f: string) => path.relative(root, f);

describe('the import parser', () => {
  it('reads value, type-only, side-effect and dynamic imports', () => {
    const text = [
      "import * as tf from '@tensorflow/tfjs-core';",
      "import type { Plan } from './plan.js';",
      "import { type A, type B } from './types.js';",
      "import { type A, b } from './mixed.js';",
      "import './side.js';",
      "const m = await import('./lazy.js');",
      "export { x } from '../x.js';",
    ].join('\n');
    const got = importsOf('/r/src/a.ts', text).map((i) => [i.target, i.typeOnly]);
    expect(got).toEqual([
      ['@tensorflow/tfjs-core', false],
      ['/r/src/plan.ts', true],
      ['/r/src/types.ts', true],
      ['/r/src/mixed.ts', false],
      ['/r/src/side.ts', false],
      ['/r/src/lazy.ts', false],
      ['/r/x.ts', false],
    ]);
  });
});

describe('architecture', () => {
  it('every relative import names a file that exists', () => {
    const missing = [...graph].flatMap(([f, imports]) =>
      imports.filter((i) => i.target.startsWith('/') && !fs.existsSync(i.target)).map((i) => `${rel(f)} → ${i.target}`),
    );
    expect(missing).toEqual([]);
  });

  it('has no circular imports', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const { target } of graph.get(f) ?? []) {
        if (!graph.has(target)) continue;
        if (state.get(target) === 'open')
          cycles.push([...stack.slice(stack.indexOf(target)), target].map(rel).join(' → '));
        else if (!state.has(target)) visit(target);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it("imports run one way between the engine's folders", () => {
    // A folder may import itself, the engine's root modules (errors, progress, random) and the folders listed.
    const allowed: Record<string, readonly string[]> = {
      runtime: [],
      network: ['runtime'],
      methods: ['network', 'runtime'],
      render: ['methods', 'runtime'],
      perturbation: ['methods', 'network', 'runtime'],
      models: ['methods', 'network', 'runtime'],
      teach: ['models', 'methods', 'network', 'runtime'],
      evaluation: ['perturbation', 'methods', 'network', 'runtime'],
    };
    const engine = path.join(root, 'src/explain');
    const folderOf = (f: string): string | null => {
      const parts = path.relative(engine, f).split(path.sep);
      return parts[0]!.startsWith('..') ? null : parts.length === 1 ? '' : parts[0]!;
    };
    const wrong: string[] = [];
    for (const [f, imports] of graph) {
      const from = folderOf(f);
      if (from === null) continue;
      for (const { target } of imports) {
        if (!target.startsWith('/')) continue;
        const to = folderOf(target);
        if (to === null) {
          // The engine runs in the worker, Node and tests: it reaches out only to the model registry.
          if (rel(target) !== 'models/registry.ts') wrong.push(`${rel(f)} → ${rel(target)} (outside the engine)`);
          continue;
        }
        if (to === from || to === '') continue;
        if (from === '' || !allowed[from]?.includes(to)) wrong.push(`${rel(f)} → ${rel(target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the page never loads tfjs: nothing it imports (values, not types) reaches @tensorflow', () => {
    const paths: string[] = [];
    const seen = new Set<string>();
    const walk = (f: string, trail: string[]): void => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const { target, typeOnly } of graph.get(f) ?? []) {
        if (typeOnly) continue;
        if (target.startsWith('@tensorflow/')) paths.push([...trail, f].map(rel).join(' → ') + ` → ${target}`);
        else if (graph.has(target)) walk(target, [...trail, f]);
      }
    };
    walk(path.join(root, 'src/main.ts'), []);
    expect(paths).toEqual([]);
  });

  it('no module has grown past ~450 lines, and the root element stays under 300', () => {
    const lines = (f: string) => fs.readFileSync(f, 'utf8').split('\n').length;
    const long = files.filter((f) => lines(f) > 450).map((f) => `${rel(f)}: ${lines(f)} lines`);
    expect(long).toEqual([]);
    expect(lines(path.join(root, 'src/app/whycam-app.ts'))).toBeLessThan(300);
  });
});
