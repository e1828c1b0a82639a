/** The page's languages: English (the source text) and Russian. */
export const LANGS = ['en', 'ru'] as const;
export type Lang = (typeof LANGS)[number];

export function isLang(value: unknown): value is Lang {
  return (LANGS as readonly unknown[]).includes(value);
}

/**
 * Which language the page starts in: `?lang=` first (a link handed to a class), then the user's
 * own choice from an earlier visit, then the first of the browser's languages that WhyCam speaks.
 */
export function chooseLang(query: string | null, remembered: string | null, browser: readonly string[]): Lang {
  if (isLang(query)) return query;
  if (isLang(remembered)) return remembered;
  for (const tag of browser) {
    const primary = tag.toLowerCase().split('-')[0];
    if (isLang(primary)) return primary;
  }
  return 'en';
}

/** Each language by its own name, as a language menu shows it. */
export const LANG_NAMES: Readonly<Record<Lang, string>> = { en: 'English', ru: 'Русский' };
