import { localized, msg, str } from '@lit/localize';
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { findModel } from '../../models/registry.js';
import { METHOD_NAMES } from '../explain/methods/names.js';
import { type Action, SHORTCUTS } from './shortcuts.js';

/** Keys whose effect the user watches while tapping again (the help stays open over the view). */
const STAYS_OPEN = new Set<Action>([
  'next-method',
  'layer-toward-input',
  'layer-toward-output',
  'toggle-reduction',
  'next-colormap',
  'alpha-down',
  'alpha-up',
  'threshold-down',
  'threshold-up',
  'next-smoothing',
  'toggle-cam',
  'mirror',
]);

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
    button.key { margin: 0; min-width: 2.75rem; min-height: 2.75rem; padding: 0.2rem; background: none; border: 0; color: inherit; cursor: pointer; touch-action: manipulation; }
  `;

  @property({ type: Boolean, reflect: true }) open = false;
  /** The model in use: its default view and why it was chosen are explained. */
  @property() model = '';

  /**
   * A key tapped (touch screens have no keyboard): its action, as the key would do it. The help
   * stays open for adjustments, whose effect shows behind it; it closes for the rest.
   */
  private perform(action: Action): void {
    this.dispatchEvent(new CustomEvent('action', { detail: { action }, bubbles: true, composed: true }));
    if (!STAYS_OPEN.has(action) && action !== 'help' && action !== 'close')
      this.dispatchEvent(new CustomEvent('close', { bubbles: true, composed: true }));
  }

  /** One sentence on the default view (`c`): what it is, that it passes the sanity check, and how well it points. */
  private defaultViewText() {
    const entry = findModel(this.model);
    if (!entry)
      return msg(
        'The default view (c) is HiResCAM at the last conv map: its map changes when the network is scrambled (the sanity check), which LayerCAM and Grad-CAM++ do not pass.',
      );
    const { method, layer } = entry.defaultView;
    const f = entry.viewFigures;
    const name = METHOD_NAMES[method];
    const pointing = Math.round(f.pointing * 100);
    return f.pointing >= 0.95
      ? msg(
          str`The default view (c) is ${name} at ${layer}: of the maps that pass the sanity check (the map changes when the network is scrambled; LayerCAM and Grad-CAM++ fail it), it put the most heat in the object's box on 300 validation photos, pointing into it ${pointing}% of the time.`,
        )
      : msg(
          str`The default view (c) is ${name} at ${layer}: of the maps that pass the sanity check (the map changes when the network is scrambled; LayerCAM and Grad-CAM++ fail it), it put the most heat in the object's box on 300 validation photos, but it points into the box only ${pointing}% of the time, short of the 95% goal that no passing map reaches.`,
        );
  }

  protected override render() {
    return html`
      <section role="dialog" aria-modal="true" aria-label=${msg('Keyboard shortcuts')}>
        <h2>${msg('Keyboard shortcuts')}</h2>
        <table>${SHORTCUTS.map((s, i) => html`<tr><td><button type="button" class="key" data-action=${s.action} aria-describedby=${`key-${i}`} @click=${() => this.perform(s.action)}><kbd>${s.key === ' ' ? msg('space') : s.key}</kbd></button></td><td id=${`key-${i}`}>${s.label()}</td></tr>`)}</table>
        <p data-help="default-view">${this.defaultViewText()}</p>
        <p>${msg('Touch: tap a key above to do what it does; tap a prediction to pin its class.')}</p>
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
