import { localized, msg } from '@lit/localize';
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { selectStyles } from './select-styles.js';
import { LANG_NAMES, LANGS, type Lang } from './i18n/choose-lang.js';

/** The title bar: what runs where (or what is loading), offline state, the language, and the install button. */
@customElement('whycam-header')
@localized()
export class AppHeader extends LitElement {
  static override styles = [
    css`
    :host { display: flex; align-items: baseline; gap: 0.8rem; flex-wrap: wrap; padding: 0.5rem 1rem; }
    h1 { margin: 0; font-size: 1.3em; }
    .tag { opacity: 0.7; }
    .status { margin-left: auto; font-size: 0.9em; opacity: 0.85; }
    .badge { font-size: 0.8em; padding: 0.1rem 0.5rem; border-radius: 1rem; border: 1px solid var(--track); }
    .badge.offline { background: #5a1d1d; border-color: #ff7070; color: #ffdcdc; }
    button { font: inherit; padding: 0.2rem 0.8rem; border-radius: 0.35rem; cursor: pointer; }
    select.lang { font: inherit; font-size: 0.9em; background-color: var(--panel-2, #1d2330); color: inherit; border: 1px solid var(--track, #333b4a); border-radius: 0.3rem; }
  `,
    selectStyles,
  ];

  /** "wasm · MobileNet V1 0.75 (224)", or what is being loaded. */
  @property() status = '';
  @property({ type: Boolean }) online = true;
  @property({ type: Boolean }) offlineReady = false;
  @property({ type: Boolean }) installable = false;
  /** The page's language, which the language menu shows. */
  @property() language: Lang = 'en';

  protected override render() {
    return html`
      <h1>WhyCam</h1><span class="tag">${msg('why did the network decide that?')}</span>
      <span class="status" data-status>${this.status}</span>
      ${this.online ? null : html`<span class="badge offline" data-badge="offline" title=${msg('No network: WhyCam keeps working from its offline copy')}>${msg('Offline')}</span>`}
      ${this.offlineReady && this.online ? html`<span class="badge" data-badge="offline-ready" title=${msg('Everything needed is saved on this device')}>${msg('Works offline')}</span>` : null}
      ${this.installable ? html`<button type="button" class="install" @click=${() => this.dispatchEvent(new CustomEvent('install'))}>${msg('Install')}</button>` : null}
      <select class="lang" aria-label=${msg('Language')} data-control="lang"
        @change=${(e: Event) => this.dispatchEvent(new CustomEvent('lang-change', { detail: { lang: (e.target as HTMLSelectElement).value } }))}>
        ${LANGS.map((l) => html`<option value=${l} lang=${l} ?selected=${this.language === l}>${LANG_NAMES[l]}</option>`)}
      </select>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-header': AppHeader;
  }
}
