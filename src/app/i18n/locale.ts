import { configureLocalization, LOCALE_STATUS_EVENT, msg } from '@lit/localize';
import { sourceLocale, targetLocales } from '../../locales/locale-codes.js';
import * as ru from '../../locales/ru.js';
import { chooseLang, isLang, type Lang } from './choose-lang.js';

const STORAGE_KEY = 'whycam.lang';

// Bundled, not fetched: the catalogue is small, and a lazily loaded chunk would be one more thing
// that has to be cached before the first offline visit.
const CATALOGUES = { ru } as const;

const { getLocale, setLocale } = configureLocalization({
  sourceLocale,
  targetLocales,
  loadLocale: async (locale) => CATALOGUES[locale as keyof typeof CATALOGUES],
});

/** The language the page shows now (it changes once the new catalogue is in place). */
export function currentLang(): Lang {
  const locale = getLocale();
  return isLang(locale) ? locale : 'en';
}

/** Switches every localized element live, and remembers the choice for the next visit. */
export async function setLang(lang: Lang, remember = true): Promise<void> {
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, lang);
    } catch {
      // Storage refused (private mode, quota): the choice lasts for this visit only.
    }
  }
  await setLocale(lang);
}

/** The language from `?lang=`, the remembered choice, or the browser's languages; applied at once. */
export function startLocalization(): Promise<void> {
  let remembered: string | null;
  try {
    remembered = localStorage.getItem(STORAGE_KEY);
  } catch {
    remembered = null;
  }
  const lang = chooseLang(
    new URLSearchParams(location.search).get('lang'),
    remembered,
    navigator.languages ?? [navigator.language],
  );
  return setLang(lang, false);
}

/** Keeps `<html lang>` (screen readers, hyphenation, the first-visit text's CSS) and the title in step with the page. */
window.addEventListener(LOCALE_STATUS_EVENT, (e) => {
  if (e.detail.status !== 'ready') return;
  document.documentElement.lang = e.detail.readyLocale;
  document.documentElement.dataset['lang'] = e.detail.readyLocale;
  document.title = `WhyCam — ${msg('why did the network decide that?')}`;
});
