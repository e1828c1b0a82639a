import { localized, msg, str } from '@lit/localize';
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { selectStyles } from './select-styles.js';
import {
  PERTURBATION_METHOD_NAMES,
  PERTURBATION_METHODS,
  type PerturbationMethod,
  SEGMENTATIONS,
} from '../explain/perturbation/names.js';
import type { PerturbationSettings } from '../protocol.js';
import type { PerturbationAction, PerturbationView } from './controllers/perturbation.js';

/**
 * Occlusion sensitivity and LIME: their options (the CLI's), a button that explains the still
 * picture (freezing the live camera frame first), a progress bar in forward passes, and Cancel.
 */
@localized()
@customElement('whycam-perturbation-panel')
export class PerturbationPanel extends LitElement {
  static override styles = [
    css`
    :host { display: block; }
    form { display: grid; grid-template-columns: auto 1fr; gap: 0.45rem 0.6rem; align-items: center; }
    label { font-size: 0.9em; opacity: 0.85; }
    select, input { width: 100%; min-height: 2rem; box-sizing: border-box; font: inherit; background: var(--panel-2, #1d2330);
      color: inherit; border: 1px solid var(--track, #333b4a); border-radius: 0.3rem; padding: 0.2rem 0.3rem; }
    button { font: inherit; min-height: 2.4rem; padding: 0.3rem 0.8rem; border-radius: 0.35rem; border: 1px solid var(--track, #333b4a);
      background: var(--panel-2, #1d2330); color: inherit; cursor: pointer; }
    button:focus-visible, select:focus-visible, input:focus-visible { outline: 2px solid var(--accent, #ffcc00); }
    button:disabled { opacity: 0.5; cursor: default; }
    .row { display: flex; flex-wrap: wrap; gap: 0.4rem; margin-top: 0.6rem; align-items: center; }
    progress { width: 100%; margin-top: 0.5rem; }
    .note, .state { font-size: 0.8em; opacity: 0.85; margin: 0.3rem 0; }
    .state[data-state='failed'] { color: #ff8a80; opacity: 1; }
  `,
    selectStyles,
  ];

  @property({ attribute: false }) view: PerturbationView | null = null;
  /** The camera is live: running freezes its frame first. */
  @property({ type: Boolean }) live = false;

  protected override render() {
    const v = this.view;
    if (!v) return null;
    const o = v.options;
    const running = v.state === 'running';
    return html`
      <p class="note">${msg('Hundreds of forward passes per picture: for still pictures and frozen frames, not live video.')}</p>
      <form @submit=${(e: Event) => e.preventDefault()}>
        <label for="p-method">${msg('Method')}</label>
        <select id="p-method" data-control="perturb-method" ?disabled=${running}
          @change=${(e: Event) => this.act({ op: 'change', method: value(e) as PerturbationMethod })}>
          ${PERTURBATION_METHODS.map((m) => html`<option value=${m} ?selected=${v.method === m}>${PERTURBATION_METHOD_NAMES[m]}</option>`)}
        </select>
        ${v.method === 'occlusion' ? this.renderOcclusion(o, running) : this.renderLime(o, running)}
      </form>
      <div class="row">
        <button type="button" data-control="perturb-run" ?disabled=${running} @click=${() => this.act({ op: 'run' })}>
          ${this.live ? msg('Freeze and explain') : msg('Explain this picture')}</button>
        ${running ? html`<button type="button" data-control="perturb-cancel" @click=${() => this.act({ op: 'cancel' })}>${msg('Cancel')}</button>` : null}
        ${v.shown ? html`<button type="button" data-control="perturb-dismiss" @click=${() => this.act({ op: 'dismiss' })}>${msg('Back to the gradient map')}</button>` : null}
      </div>
      ${
        v.state === 'idle'
          ? null
          : html`<progress data-control="perturb-progress" max=${Math.max(1, v.total)} .value=${v.done}></progress>
        <div class="state" data-control="perturb-state" data-state=${v.state} role="status">${this.stateText(v)}</div>`
      }
    `;
  }

  private renderOcclusion(o: PerturbationSettings, running: boolean) {
    return html`
      <label for="p-mask-size">${msg('Mask size (px)')}</label>
      <input id="p-mask-size" type="number" min="1" max="224" step="1" placeholder=${msg('auto: 20% of the input')} ?disabled=${running}
        .value=${o.maskSize === null ? '' : String(o.maskSize)} @change=${(e: Event) => this.option({ maskSize: whole(e) })}>
      <label for="p-stride">${msg('Stride (px)')}</label>
      <input id="p-stride" type="number" min="1" max="224" step="1" placeholder=${msg('auto: 10% of the input')} ?disabled=${running}
        .value=${o.stride === null ? '' : String(o.stride)} @change=${(e: Event) => this.option({ stride: whole(e) })}>
      <label for="p-mask-value">${msg('Mask value')}</label>
      <select id="p-mask-value" ?disabled=${running} @change=${(e: Event) => this.option({ maskValue: value(e) === 'auto' ? null : Number(value(e)) })}>
        ${(
          [
            ['auto', msg('the picture’s mean colour')],
            ['0', msg('black')],
            ['128', msg('grey')],
            ['255', msg('white')],
          ] as const
        ).map(
          ([v, text]) =>
            html`<option value=${v} ?selected=${(o.maskValue === null ? 'auto' : String(o.maskValue)) === v}>${text}</option>`,
        )}
      </select>`;
  }

  private renderLime(o: PerturbationSettings, running: boolean) {
    return html`
      <label for="p-segmentation">${msg('Segments')}</label>
      <select id="p-segmentation" ?disabled=${running} @change=${(e: Event) => this.option({ segmentation: value(e) as PerturbationSettings['segmentation'] })}>
        ${SEGMENTATIONS.map((s) => html`<option value=${s} ?selected=${(o.segmentation ?? 'superpixels') === s}>${s === 'grid' ? msg('grid') : msg('superpixels')}</option>`)}
      </select>
      <label for="p-features">${msg('Features')}</label>
      <input id="p-features" type="number" min="1" max="1000" step="1" placeholder="49" ?disabled=${running}
        .value=${o.numFeatures === null ? '' : String(o.numFeatures)} @change=${(e: Event) => this.option({ numFeatures: whole(e) })}>
      <label for="p-samples">${msg('Samples')}</label>
      <input id="p-samples" type="number" min="2" max="100000" step="1" placeholder="2048" ?disabled=${running}
        .value=${o.numSamples === null ? '' : String(o.numSamples)} @change=${(e: Event) => this.option({ numSamples: whole(e) })}>`;
  }

  private stateText(v: PerturbationView): string {
    switch (v.state) {
      case 'running':
        return v.total > 0 ? msg(str`${v.done} of ${v.total} forward passes`) : msg('Starting…');
      case 'done': {
        const r = v.result;
        if (!r) return msg('Done');
        const seconds = (r.totalMs / 1000).toFixed(1);
        return msg(str`Done: ${r.forwardPasses} forward passes in ${seconds} s`);
      }
      case 'cancelled':
        return msg('Cancelled');
      case 'failed':
        return v.failure ?? msg('Failed');
      case 'idle':
        return '';
    }
  }

  private option(options: Partial<PerturbationSettings>): void {
    this.act({ op: 'change', options });
  }

  private act(action: PerturbationAction): void {
    this.dispatchEvent(new CustomEvent('perturbation-action', { detail: action, bubbles: true, composed: true }));
  }
}

function value(e: Event): string {
  return (e.target as HTMLInputElement | HTMLSelectElement).value;
}

/** A number field's whole number, or null (empty or invalid: the default). */
function whole(e: Event): number | null {
  const n = Number(value(e));
  return value(e).trim() !== '' && Number.isInteger(n) && n > 0 ? n : null;
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-perturbation-panel': PerturbationPanel;
  }
}
