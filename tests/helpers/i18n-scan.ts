import fs from 'node:fs';
import path from 'node:path';
import { generateMsgId } from '@lit/localize/internal/id-generation.js';
import ts from 'typescript';

/**
 * Reads the page's sources the way lit-localize does, with the TypeScript compiler: which messages
 * go through `msg()` (and their catalogue ids), and which user-visible texts do not.
 */

export interface Message {
  id: string;
  /** The source text, with `{0}`, `{1}`… where the expressions go. */
  text: string;
  placeholders: number;
  where: string;
}

export interface Bypass {
  text: string;
  where: string;
}

/** Attributes whose values a person reads (tooltips, screen readers, empty fields). */
const READ_ATTRIBUTES = new Set(['title', 'aria-label', 'aria-description', 'placeholder', 'alt', 'label']);
/** Object properties and fields that end up on screen. */
const READ_PROPERTIES = new Set([
  'message',
  'hint',
  'label',
  'title',
  'emptyText',
  'progress',
  'caption',
  'placeholder',
  'text',
]);
/** Words that are the same in every language here: the product, the method names, units of the HUD. */
const SAME_IN_EVERY_LANGUAGE = /\b(?:WhyCam|Teachable Machine|Grad-CAM\+\+|Grad-CAM|LayerCAM|CAM|PNG|p50|p95)\b/g;
/** A word a person reads: two letters or more (one letter is a key in a <kbd>). */
const WORD = /\p{L}{2,}/u;
/** Prose outside templates: two words in a row. */
const PROSE = /\p{L}{2,}[,.;:]?\s+\p{L}{2,}/u;

export function appSources(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

function where(file: ts.SourceFile, node: ts.Node): string {
  const { line } = file.getLineAndCharacterOfPosition(node.getStart(file));
  return `${path.relative(process.cwd(), file.fileName)}:${line + 1}`;
}

function tagName(node: ts.TaggedTemplateExpression): string {
  return ts.isIdentifier(node.tag) ? node.tag.text : '';
}

function calleeName(node: ts.CallExpression | ts.NewExpression): string {
  const e = node.expression;
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return `${e.expression.getText()}.${e.name.text}`;
  return '';
}

/** The cooked literal parts of a template (what Lit and lit-localize hash). */
function templateStrings(t: ts.TemplateLiteral): string[] {
  if (ts.isNoSubstitutionTemplateLiteral(t)) return [t.text];
  return [t.head.text, ...t.templateSpans.map((s) => s.literal.text)];
}

/** The message a `msg()` call carries, or null when its argument is not a literal (which lit-localize cannot extract). */
export function messageOf(call: ts.CallExpression): { id: string; strings: string[]; html: boolean } | null {
  const [arg, options] = call.arguments;
  let strings: string[];
  let html = false;
  if (arg && (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg))) strings = [arg.text];
  else if (arg && ts.isTaggedTemplateExpression(arg) && (tagName(arg) === 'str' || tagName(arg) === 'html')) {
    strings = templateStrings(arg.template);
    html = tagName(arg) === 'html';
  } else return null;
  let id = generateMsgId(strings.length === 1 ? strings[0]! : strings, html);
  if (options && ts.isObjectLiteralExpression(options)) {
    for (const p of options.properties) {
      if (ts.isPropertyAssignment(p) && p.name.getText() === 'id' && ts.isStringLiteral(p.initializer))
        id = p.initializer.text;
    }
  }
  return { id, strings, html };
}

/** Text a person reads in the static parts of an html`` template: text between tags, and read attributes' values. */
function htmlTexts(strings: readonly string[]): string[] {
  const hole = '\uE000';
  const source = strings.join(hole);
  const texts: string[] = [];
  // Tags (with their attributes) and the text between them.
  const tag = /<\/?[a-zA-Z][^>]*>/g;
  let last = 0;
  for (const m of source.matchAll(tag)) {
    texts.push(source.slice(last, m.index));
    last = m.index + m[0].length;
    for (const a of m[0].matchAll(/([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/g)) {
      if (READ_ATTRIBUTES.has(a[1]!.toLowerCase())) texts.push(a[2] ?? a[3] ?? a[4] ?? '');
    }
  }
  texts.push(source.slice(last));
  return texts.map((t) => t.split(hole).join(' ').replace(/&\w+;/g, ' ').trim()).filter((t) => t.length > 0);
}

function readable(text: string, pattern: RegExp): boolean {
  return pattern.test(text.replace(SAME_IN_EVERY_LANGUAGE, ' '));
}

/** Walks one source file: every msg() call, and every user-visible text that bypasses it. */
export function scan(
  fileName: string,
  allowed: ReadonlySet<string> = new Set(),
): { messages: Message[]; bypasses: Bypass[]; unextractable: Bypass[] } {
  const file = ts.createSourceFile(fileName, fs.readFileSync(fileName, 'utf8'), ts.ScriptTarget.ES2022, true);
  const messages: Message[] = [];
  const bypasses: Bypass[] = [];
  const unextractable: Bypass[] = [];
  const report = (raw: string, node: ts.Node): void => {
    const text = raw.trim();
    // Shader sources are code, not text.
    if (!allowed.has(text) && !text.startsWith('#version')) bypasses.push({ text, where: where(file, node) });
  };

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node) || ts.isDecorator(node) || ts.isTypeNode(node))
      return;
    if (ts.isCallExpression(node) && calleeName(node) === 'msg') {
      const m = messageOf(node);
      if (!m) unextractable.push({ text: node.getText(file), where: where(file, node) });
      else
        messages.push({
          id: m.id,
          text: m.strings.map((s, i) => (i === 0 ? s : `{${i - 1}}${s}`)).join(''),
          placeholders: m.strings.length - 1,
          where: where(file, node),
        });
      // The expressions inside a message are the page's own (labels, numbers): look inside for nested msg() calls.
      node.arguments.forEach((a) => {
        if (ts.isTaggedTemplateExpression(a) && ts.isTemplateExpression(a.template))
          a.template.templateSpans.forEach((s) => visit(s.expression));
      });
      return;
    }
    // Developer-facing: exceptions of the automation API, and the console.
    if (ts.isNewExpression(node) && /^(?:Error|TypeError|RangeError)$/.test(calleeName(node))) return;
    if (ts.isCallExpression(node) && calleeName(node).startsWith('console.')) return;
    if (ts.isTaggedTemplateExpression(node)) {
      const tag = tagName(node);
      if (tag === 'css') return;
      if (tag === 'html' || tag === 'svg') {
        for (const text of htmlTexts(templateStrings(node.template))) if (readable(text, WORD)) report(text, node);
        if (ts.isTemplateExpression(node.template)) node.template.templateSpans.forEach((s) => visit(s.expression));
        return;
      }
    }
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node)) {
      const text = ts.isTemplateExpression(node) ? templateStrings(node).join(' ') : node.text;
      const parent = node.parent;
      const named =
        ((ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) &&
          parent.initializer === node &&
          READ_PROPERTIES.has(parent.name.getText(file))) ||
        (ts.isBinaryExpression(parent) &&
          parent.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
          ts.isPropertyAccessExpression(parent.left) &&
          READ_PROPERTIES.has(parent.left.name.text));
      if (readable(text, named ? WORD : PROSE)) report(text, node);
      if (ts.isTemplateExpression(node)) node.templateSpans.forEach((s) => visit(s.expression));
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return { messages, bypasses, unextractable };
}

/** The catalogue's ids and texts from an XLIFF file: what has a target, and what the target's placeholders are. */
export function xliffUnits(file: string): Map<string, { source: string; target: string | null }> {
  const xml = fs.readFileSync(file, 'utf8');
  const units = new Map<string, { source: string; target: string | null }>();
  for (const m of xml.matchAll(
    /<trans-unit id="([^"]+)">\s*<source>([\s\S]*?)<\/source>(?:\s*<target>([\s\S]*?)<\/target>)?/g,
  )) {
    units.set(m[1]!, { source: m[2]!, target: m[3] ?? null });
  }
  return units;
}
