import { localized, msg } from '@lit/localize';
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { HudFigures } from './hud.js';

/**
 * The heads-up line over the picture, readable from the back of a room: heatmaps per second, median
 * latency, backend, and what the map shows. The detailed figures stay in the sidebar's panel.
 */
@customElement('whycam-hud-line')
@localized()
export class HudLine extends LitElement {
  static override styles = css`
    :host { display: block; position: absolute; left: 0.5rem; bottom: 0.5rem; max-width: calc(100% - 1rem); pointer-events: none;
      padding: 0.15em 0.6em; border-radius: 0.3rem; background: rgba(0, 0, 0, 0.72); color: #fff;
      font: 600 var(--hud-line-size, clamp(0.85rem, 1.6vw, 1.2rem))/1.35 ui-monospace, SFMono-Regular, Menlo, monospace;
      font-variant-numeric: tabular-nums; }
    /* On a narrow view the line wraps between its parts, never inside one. */
    span { white-space: nowrap; }
    span.shown { white-space: normal; }
    b { color: var(--accent, #ffcc00); font-weight: 700; }
  `;

  @property({ attribute: false }) figures: HudFigures | null = null;
  /** "LayerCAM · conv_pw_9_relu", or both views' when side by side. */
  @property() shown = '';

  protected override render() {
    const f = this.figures;
    if (!f) return html`<span data-hud-line="waiting">${msg('waiting for the first heatmap…')}</span>`;
    const p50 = f.latencyMs.p50;
    const shown = html`<span data-hud-line="backend">${f.backend}</span> · <span class="shown" data-hud-line="shown">${this.shown.split(' | ').map((v, k) => html`${k > 0 ? ' | ' : ''}<span>${v}</span>`)}</span>`;
    // A still picture (a photo, a frozen frame) has no rate: what one explanation took instead.
    if (f.stillMs !== null)
      return html`<span data-hud-line="still">${msg('still picture')}</span> · <span>${msg('explained in')} <b data-hud-line="still-ms">${f.stillMs.toFixed(0)}</b> ${msg('ms')}</span> · ${shown}`;
    return html`<span><b data-hud-line="rate">${f.heatmapsPerSecond.toFixed(1)}</b> ${msg('heatmaps/s')}</span> · <span>p50 <b data-hud-line="latency">${p50 === null ? '–' : p50.toFixed(0)}</b> ${msg('ms')}</span> · ${shown}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-hud-line': HudLine;
  }
}
