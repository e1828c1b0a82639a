// The page never runs a model, so its JavaScript carries no tfjs: the production build's chunks that
// the page loads (index.html's entry, what it imports statically or dynamically, its preloads) are
// checked for tfjs, while the explain worker's bundle, which runs the models, must carry it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/shared.js';

/** Strings only tfjs-core puts in a bundle, minified or not: its engine's global and its URL flags' prefix. */
const TFJS = ['_tfengine', 'tfjsflags'];

/** The chunks a built chunk loads: `import … from "./x.js"`, `import "./x.js"`, `import("./x.js")`, preload lists. */
function chunkImports(code: string): string[] {
  const found = new Set<string>();
  const quoted = String.raw`["'\x60]([^"'\x60]+\.js)["'\x60]`;
  for (const re of [
    new RegExp(String.raw`\bfrom\s*` + quoted, 'g'),
    new RegExp(String.raw`\bimport\s*` + quoted, 'g'),
    new RegExp(String.raw`\bimport\(\s*` + quoted, 'g'),
  ])
    for (const m of code.matchAll(re)) found.add(path.posix.basename(m[1]!));
  // Vite's preload map of a dynamic import: m.f=["assets/a.js", …].
  for (const m of code.matchAll(/__vite__mapDeps[^\n]*?m\.f=\[([^\]]*)\]/g))
    for (const s of m[1]!.matchAll(/["'`]([^"'`]+\.js)["'`]/g)) found.add(path.posix.basename(s[1]!));
  return [...found];
}

/** The JavaScript files the page loads, from index.html's entry and preloads, following imports. */
function pageChunks(dir: string): string[] {
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  const roots = [
    ...[...html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)].map((m) => m[1]!),
    ...[...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1]!),
  ].map((src) => path.posix.basename(src));
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    queue.push(...chunkImports(fs.readFileSync(path.join(dir, 'assets', name), 'utf8')));
  }
  return [...seen];
}

describe('finding the chunks a page loads', () => {
  it('follows static, side-effect and dynamic imports and preload lists, not workers', () => {
    const code = [
      'const __vite__mapDeps=(i,m=__vite__mapDeps,d=(m.f||(m.f=["assets/app-1.js","assets/dep-2.js"])))=>i.map(i=>d[i]);',
      'import{r as e}from"./locale-3.js";import"./side-4.js";',
      'await (()=>import(`./app-1.js`))();',
      'new Worker(new URL(`/assets/explain.worker-5.js`,``+import.meta.url),{type:`module`});',
    ].join('\n');
    expect(chunkImports(code).sort()).toEqual(['app-1.js', 'dep-2.js', 'locale-3.js', 'side-4.js']);
  });
});

describe('the production build', () => {
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-page-'));
    // vitest sets NODE_ENV=test, which would make Vite build for development.
    await promisify(execFile)(
      process.execPath,
      [
        'node_modules/vite/bin/vite.js',
        'build',
        '--outDir',
        dir,
        '--emptyOutDir',
        '--sourcemap',
        'false',
        '--logLevel',
        'error',
      ],
      { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' }, maxBuffer: 16 * 1024 * 1024 },
    );
  });

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the page's chunks carry no tfjs; the worker's do", () => {
    const page = pageChunks(dir);
    const read = (name: string) => fs.readFileSync(path.join(dir, 'assets', name), 'utf8');
    // The walk reached the app itself (the chunk that defines <whycam-app>), not just the entry.
    expect(page.some((name) => read(name).includes('"whycam-app"') || read(name).includes('`whycam-app`'))).toBe(true);
    const withTfjs = page.flatMap((name) => TFJS.filter((s) => read(name).includes(s)).map((s) => `${name}: ${s}`));
    expect(withTfjs).toEqual([]);

    // The markers are meaningful: the worker, which runs the models, carries them, and the page never loads it.
    const workers = fs.readdirSync(path.join(dir, 'assets')).filter((f) => /^explain\.worker-.*\.js$/.test(f));
    expect(workers).toHaveLength(1);
    expect(TFJS.filter((s) => read(workers[0]!).includes(s))).toEqual(TFJS);
    expect(page).not.toContain(workers[0]);

    const bytes = page.reduce((sum, name) => sum + fs.statSync(path.join(dir, 'assets', name)).size, 0);
    const gzip = page.reduce((sum, name) => sum + zlib.gzipSync(read(name), { level: 9 }).length, 0);
    console.log(`page JavaScript: ${page.length} chunks, ${bytes} bytes, ${gzip} gzipped`);
  });
});
