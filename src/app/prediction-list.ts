import { localized, msg, str } from '@lit/localize';
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { Prediction } from '../explain/methods/types.js';

/** The top predictions as bars; clicking one pins the explanation to that class. */
@customElement('whycam-predictions')
@localized()
export class PredictionList extends LitElement {
  static override styles = css`
    :host { display: block; }
    ol { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.35rem; }
    button { all: unset; box-sizing: border-box; display: grid; grid-template-columns: 1fr auto; gap: 0.2rem 0.5rem; width: 100%;
      padding: 0.35rem 0.5rem; border-radius: 0.35rem; cursor: pointer; background: var(--panel-2, #1d2330); }
    button:focus-visible { outline: 2px solid var(--accent, #ffcc00); }
    button[aria-pressed='true'] { outline: 2px solid var(--accent, #ffcc00); }
    .name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .score { font-variant-numeric: tabular-nums; }
    .bar { grid-column: 1 / -1; width: 100%; height: 0.45rem; appearance: none; border: 0; border-radius: 0.2rem; background: var(--track, #333b4a); }
    .bar::-webkit-meter-bar { background: var(--track, #333b4a); border: 0; border-radius: 0.2rem; height: 0.45rem; }
    .bar::-webkit-meter-optimum-value, .bar::-webkit-meter-suboptimum-value, .bar::-webkit-meter-even-less-good-value { background: var(--accent, #ffcc00); border-radius: 0.2rem; }
    .bar::-moz-meter-bar { background: var(--accent, #ffcc00); }
    .pinned { margin-top: 0.5rem; font-size: 0.9em; }
    li { display: grid; grid-template-columns: 1fr auto; gap: 0.3rem; align-items: stretch; }
    button.not { display: grid; place-items: center; padding: 0 0.55rem; font-size: 0.85em; opacity: 0.85; }
    button.not[hidden] { display: none; }
  `;

  @property({ attribute: false }) predictions: readonly Prediction[] = [];
  /** The pinned class, or null when the explanation follows the top-1. */
  @property({ attribute: false }) pinned: number | null = null;
  @property({ attribute: false }) pinnedLabel = '';
  @property({ type: Number }) count = 3;
  /** "Why A and not B": the class explained against, or null. */
  @property({ attribute: false }) contrast: number | null = null;

  protected override render() {
    const explained = this.pinned ?? this.predictions[0]?.classIndex;
    return html`
      <ol aria-label=${msg('Top predictions')}>
        ${this.predictions.slice(0, this.count).map(
          (p) => html`
          <li>
            <button aria-pressed=${String(this.pinned === p.classIndex)} title=${msg(str`Explain ${p.label} (click to pin)`)}
              @click=${() => this.pin(this.pinned === p.classIndex ? null : p.classIndex)}>
              <span class="name">${p.label}</span>
              <span class="score">${(p.score * 100).toFixed(1)}%</span>
              <meter class="bar" min="0" max="1" .value=${p.score} aria-hidden="true"></meter>
            </button>
            <button class="not" data-contrast=${p.classIndex} ?hidden=${p.classIndex === explained} aria-pressed=${String(this.contrast === p.classIndex)}
              title=${msg(str`Why the explained class and not ${p.label}?`)} @click=${() => this.emit('contrast', this.contrast === p.classIndex ? null : p.classIndex)}>${msg('not')}</button>
          </li>`,
        )}
      </ol>
      ${
        this.contrast !== null
          ? html`<div class="pinned" data-contrast-note>${msg(str`Explaining why, and not ${this.predictions.find((p) => p.classIndex === this.contrast)?.label ?? `#${this.contrast}`}`)} — <a href="#" @click=${(
              e: Event,
            ) => {
              e.preventDefault();
              this.emit('contrast', null);
            }}>${msg('plain explanation')}</a></div>`
          : null
      }
      ${
        this.pinned !== null
          ? html`<div class="pinned">${msg(html`Explaining <strong>${this.pinnedLabel}</strong> (pinned)`)} — <a href="#" @click=${(
              e: Event,
            ) => {
              e.preventDefault();
              this.pin(null);
            }}>${msg('follow the top prediction')}</a></div>`
          : null
      }
    `;
  }

  private pin(classIndex: number | null): void {
    this.emit('pin', classIndex);
  }

  private emit(name: 'pin' | 'contrast', classIndex: number | null): void {
    this.dispatchEvent(new CustomEvent(name, { detail: { classIndex }, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-predictions': PredictionList;
  }
}
