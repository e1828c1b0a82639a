import fs from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { chooseLang } from '../../src/app/i18n/choose-lang.js';
import { readPngText, withPngText } from '../../src/app/png-text.js';
import { templates as ru } from '../../src/locales/ru.js';
import { appSources, type Bypass, type Message, scan, xliffUnits } from '../helpers/i18n-scan.js';

/**
 * Texts in src/app that look like words but are not for reading, each with why. Anything else a
 * person can read must go through msg(), so that the catalogue has it in both languages.
 */
const NOT_FOR_READING = new Set<string>([
  'px system-ui, sans-serif', // the saved picture's title font
  '600  px system-ui, sans-serif', // the recorded video's label font
  '11px system-ui, sans-serif', // the timeline's class names
  'JSON', // file formats, the same in every language
  'CSV',
]);

const sources = appSources('src/app');
const scans = sources.map((f) => scan(f, NOT_FOR_READING));
const messages: Message[] = scans.flatMap((s) => s.messages);

describe("the page's texts", () => {
  it('are found: the scan sees the messages of every element', () => {
    // A scan that found nothing would pass every check below.
    expect(messages.length).toBeGreaterThan(100);
    for (const f of [
      'app-header.ts',
      'controls.ts',
      'help-overlay.ts',
      'hud.ts',
      'notice-texts.ts',
      'prediction-list.ts',
      'shortcuts.ts',
      'whycam-app.ts',
    ]) {
      expect(
        messages.some((m) => m.where.includes(`src/app/${f}`)),
        f,
      ).toBe(true);
    }
  });

  it('all go through msg(): no user-visible text bypasses the catalogue', () => {
    const bypasses: Bypass[] = scans.flatMap((s) => s.bypasses);
    expect(bypasses.map((b) => `${b.where}: ${b.text}`)).toEqual([]);
  });

  it('are literal in msg(), so that lit-localize can extract them', () => {
    expect(scans.flatMap((s) => s.unextractable).map((b) => `${b.where}: ${b.text}`)).toEqual([]);
  });

  it('would be caught if one bypassed the catalogue', () => {
    // The scan itself, on a file with a bare text in each place it looks.
    const file = 'test-results/i18n-probe.ts';
    fs.mkdirSync('test-results', { recursive: true });
    fs.writeFileSync(
      file,
      [
        "import { html } from 'lit';",
        "import { msg } from '@lit/localize';",
        'export const a = html`<p>Hello there</p><button title="Save it">${msg(\'OK\')}</button><kbd>c</kbd>`;',
        "export const b = { message: 'Broken', hint: msg('Fine') };",
        'export const c = `This device explains ${1} pictures`;',
        "export const d = new Error('For developers only');",
      ].join('\n'),
    );
    const probe = scan(file);
    expect(probe.bypasses.map((b) => b.text)).toEqual([
      'Hello there',
      'Save it',
      'Broken',
      'This device explains   pictures',
    ]);
    expect(probe.messages.map((m) => m.text)).toEqual(['OK', 'Fine']);
  });
});

describe('the Russian catalogue', () => {
  const units = xliffUnits('xliff/ru.xlf');

  it('translates every message in the source (xliff/ru.xlf has a target for each)', () => {
    const untranslated = messages.filter((m) => !units.get(m.id)?.target).map((m) => `${m.where}: ${m.text}`);
    expect(untranslated).toEqual([]);
  });

  it('is built: src/locales/ru.ts has every message, with the same placeholders', () => {
    const table = ru as Record<string, unknown>;
    const missing = messages.filter((m) => !(m.id in table)).map((m) => `${m.where}: ${m.text}`);
    expect(missing, 'run `npm run i18n:build`').toEqual([]);
    for (const m of messages) {
      const t = table[m.id] as string | { strings: readonly string[] };
      const holes = typeof t === 'string' ? 0 : t.strings.length - 1;
      expect(holes, `${m.where}: ${m.text}`).toBe(m.placeholders);
    }
  });

  it('is Russian: every translation has Cyrillic letters, or is a technical term kept as it is', () => {
    for (const m of messages) {
      const t = ru[m.id as keyof typeof ru] as string | { strings: readonly string[] };
      const text = typeof t === 'string' ? t : t.strings.join('');
      if (/\p{L}{2,}/u.test(m.text.replace(/\{\d\}/g, ''))) expect(text, m.text).toMatch(/[а-яё]/i);
    }
  });
});

describe('the first-visit page (before any script runs)', () => {
  const index = fs.readFileSync('index.html', 'utf8');

  it('says why it may not start in both languages', () => {
    const block = (lang: string) =>
      new RegExp(`<div[^>]*lang="${lang}"[^>]*>([\\s\\S]*?)</div>`).exec(index)?.[1] ?? '';
    expect(block('en')).toContain('could not start');
    expect(block('ru')).toMatch(/не удалось запустить/);
  });
});

describe('choosing the language', () => {
  it("takes ?lang= first, then the remembered choice, then the browser's languages", () => {
    expect(chooseLang('ru', 'en', ['en-US'])).toBe('ru');
    expect(chooseLang(null, 'ru', ['en-US'])).toBe('ru');
    expect(chooseLang('de', null, ['de-DE', 'ru-RU', 'en'])).toBe('ru');
    expect(chooseLang(null, 'xx', ['uk-UA', 'en-GB'])).toBe('en');
    expect(chooseLang(null, null, ['fr-FR'])).toBe('en');
  });
});

describe("the saved picture's title chunk", () => {
  it('keeps the PNG valid and reads back in UTF-8', () => {
    const png = new PNG({ width: 3, height: 2 });
    png.data.fill(200);
    const bytes = new Uint8Array(PNG.sync.write(png));
    const titled = withPngText(bytes, 'Title', 'golden retriever (0.87) — LayerCAM, слой conv_pw_11_relu');
    expect(titled.length).toBeGreaterThan(bytes.length);
    // pngjs checks every chunk's CRC.
    const decoded = PNG.sync.read(Buffer.from(titled));
    expect([decoded.width, decoded.height, decoded.data[0]]).toEqual([3, 2, 200]);
    expect(readPngText(titled, 'Title')).toBe('golden retriever (0.87) — LayerCAM, слой conv_pw_11_relu');
    expect(readPngText(bytes, 'Title')).toBeNull();
  });
});
