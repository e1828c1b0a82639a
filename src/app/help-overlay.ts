import { localized, msg } from '@lit/localize';
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { SHORTCUTS } from './shortcuts.js';

/** The keyboard shortcuts, one per control. */
@customElement('whycam-help')
@localized()
export class HelpOverlay extends LitElement {
  static override styles = css`
    :host { position: fixed; inset: 0; display: none; place-items: center; background: rgba(0,0,0,0.7); z-index: 10; }
    :host([open]) { display: grid; }
    section { background: var(--panel, #141923); color: var(--text, #eee); border-radius: 0.6rem; padding: 1rem 1.4rem; max-width: 36rem; max-height: 90vh; overflow: auto; }
    table { border-collapse: collapse; width: 100%; }
    td { padding: 0.2rem 0.5rem; }
    kbd { display: inline-block; min-width: 1.6em; text-align: center; padding: 0.05rem 0.35rem; border: 1px solid #666; border-radius: 0.25rem; font: 0.95em ui-monospace, monospace; }
    button { font: inherit; margin-top: 0.8rem; min-height: 2.4rem; padding: 0.3rem 0.9rem; }
  `;

  @property({ type: Boolean, reflect: true }) open = false;

  protected override render() {
    return html`
      <section role="dialog" aria-modal="true" aria-label=${msg('Keyboard shortcuts')}>
        <h2>${msg('Keyboard shortcuts')}</h2>
        <table>${SHORTCUTS.map((s) => html`<tr><td><kbd>${s.key === ' ' ? msg('space') : s.key}</kbd></td><td>${s.label()}</td></tr>`)}</table>
        <p>${msg('Touch: tap a prediction to pin its class; the buttons do the rest.')}</p>
        <button type="button" @click=${() => this.dispatchEvent(new CustomEvent('close', { bubbles: true, composed: true }))}>${msg('Close')}</button>
      </section>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-help': HelpOverlay;
  }
}
