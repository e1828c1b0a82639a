import { localized, msg, str } from '@lit/localize';
import { css, html, LitElement, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { selectStyles } from './select-styles.js';
import { MODELS } from '../../models/registry.js';
import { COLORMAPS } from '../explain/render/colormaps.js';
import { IMAGENET_LABELS, LabelSet } from '../explain/network/labels.js';
import { METHOD_NAMES, METHODS, REDUCTIONS } from '../explain/methods/names.js';
import type { FeatureLayer } from '../explain/network/network.js';
import type { CameraInfo, Resolution } from './camera.js';
import { RESOLUTIONS } from './camera.js';
import { storedModelId } from './model-store.js';
import { type Pairing, pairingOf } from './controllers/comparison.js';
import type { AppSettings } from './settings.js';
import type { Action } from './shortcuts.js';

/**
 * Every setting, applied live: method, layer, reduction, target class, colormap, opacity,
 * threshold, smoothing, model, camera; plus freeze, photo, save and help.
 */
@customElement('whycam-controls')
@localized()
export class Controls extends LitElement {
  static override styles = [
    css`
    :host { display: block; }
    form { display: grid; grid-template-columns: auto 1fr; gap: 0.45rem 0.6rem; align-items: center; }
    label { font-size: 0.9em; opacity: 0.85; }
    select, input[type='search'], input[type='range'] { width: 100%; min-height: 2rem; box-sizing: border-box; font: inherit; }
    select, input[type='search'] { background: var(--panel-2, #1d2330); color: inherit; border: 1px solid var(--track, #333b4a); border-radius: 0.3rem; padding: 0.2rem 0.3rem; }
    .resolved { grid-column: 2; font-size: 0.8em; opacity: 0.75; margin-top: -0.3rem; }
    .buttons { display: flex; flex-wrap: wrap; gap: 0.4rem; margin-top: 0.8rem; }
    button { font: inherit; min-height: 2.4rem; padding: 0.3rem 0.8rem; border-radius: 0.35rem; border: 1px solid var(--track, #333b4a);
      background: var(--panel-2, #1d2330); color: inherit; cursor: pointer; }
    button:focus-visible, select:focus-visible, input:focus-visible { outline: 2px solid var(--accent, #ffcc00); }
    button[aria-pressed='true'] { background: var(--accent, #ffcc00); color: #000; }
    kbd { font-size: 0.75em; opacity: 0.7; margin-left: 0.3em; }
    select.scrambled { border-color: #ff5252; }
    .scrambled-badge { grid-column: 1 / -1; background: #c62828; color: #fff; font-weight: bold; border-radius: 0.3rem; padding: 0.25rem 0.5rem; font-size: 0.85em; }
  `,
    selectStyles,
  ];

  @property({ attribute: false }) settings!: AppSettings;
  @property({ attribute: false }) layers: readonly FeatureLayer[] = [];
  /** The blocks the sanity check can re-initialise, from the logits down (empty: the model cannot be scrambled). */
  @property({ attribute: false }) scrambleBlocks: readonly string[] = [];
  @property({ attribute: false }) camLayer: string | null = null;
  /** The model's class names (from the worker); ImageNet's until it is ready. */
  @property({ attribute: false }) labels: readonly string[] = [];
  /** Models kept on this device (taught or opened), listed after the registered ones. */
  @property({ attribute: false }) stored: readonly { name: string }[] = [];
  private labelSet: { names: readonly string[]; set: LabelSet } | null = null;
  /** The layer the last heatmap came from (what `auto` and CAM resolved to). */
  @property({ attribute: false }) resolvedLayer = '';
  @property({ attribute: false }) cameras: readonly CameraInfo[] = [];
  @property({ attribute: false }) cameraId = '';
  @property() mode: 'camera' | 'image' | 'none' = 'none';
  @property({ type: Boolean }) frozen = false;
  @state() private query = '';
  /** A datalist pick fires both input and change: report it once. */
  private lastPick: number | null = null;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('settings')) this.lastPick = this.settings?.classIndex ?? null;
  }

  protected override render() {
    const s = this.settings;
    if (!s) return null;
    const labels = this.classLabels();
    const matches = labels.search(this.query, 30);
    const pinned = s.classIndex === null ? '' : `${labels.label(s.classIndex)} (${s.classIndex})`;
    return html`
      <form @submit=${(e: Event) => e.preventDefault()}>
        <label for="method">${msg('Method')}<kbd>m</kbd></label>
        <select id="method" @change=${(e: Event) => this.change({ method: value(e) as AppSettings['method'] })}>
          ${METHODS.map((m) => html`<option value=${m} ?selected=${s.method === m}>${METHOD_NAMES[m]}</option>`)}
        </select>

        <label for="layer">${msg('Layer')}<kbd>l</kbd></label>
        <select id="layer" ?disabled=${s.method === 'cam'} @change=${(e: Event) => this.change({ layer: value(e) })}>
          <option value="auto" ?selected=${s.layer === 'auto'}>${msg('auto (last conv map)')}</option>
          ${[...this.layers].reverse().map((l) => html`<option value=${l.name} ?selected=${s.layer === l.name}>${l.name} (${l.height}×${l.width})</option>`)}
        </select>
        <div class="resolved" data-control="resolved-layer">${s.method === 'cam' ? (this.camLayer ? msg(str`CAM is defined at ${this.camLayer} only`) : msg('CAM is defined at the pooled layer only')) : ''}${this.resolvedLayer ? ` → ${msg(str`using ${this.resolvedLayer}`)}` : ''}</div>

        <label for="reduction">${msg('Reduction')}<kbd>r</kbd></label>
        <select id="reduction" ?disabled=${s.method === 'cam'} @change=${(e: Event) => this.change({ reduction: value(e) as AppSettings['reduction'] })}>
          ${REDUCTIONS.map((r) => html`<option value=${r} ?selected=${s.reduction === r}>${r === 'logit' ? msg('class logit (paper)') : msg('softmax probability (MATLAB)')}</option>`)}
        </select>

        <label for="class">${msg('Class')}<kbd>u</kbd></label>
        <input id="class" type="search" list="class-list" autocomplete="off" placeholder=${pinned || msg('auto: the top prediction')}
          .value=${this.query} @input=${(e: Event) => {
            this.query = value(e);
            this.pickClass(this.query);
          }} @change=${(e: Event) => this.pickClass(value(e))}>
        <datalist id="class-list">${matches.map((i) => html`<option value="${labels.label(i)} (${i})"></option>`)}</datalist>

        <label for="colormap">${msg('Colormap')}<kbd>k</kbd></label>
        <select id="colormap" @change=${(e: Event) => this.change({ colormap: value(e) as AppSettings['colormap'] })}>
          ${COLORMAPS.map((c) => html`<option value=${c} ?selected=${s.colormap === c}>${c}</option>`)}
        </select>

        <label for="alpha">${msg('Opacity')}<kbd>[ ]</kbd></label>
        <input id="alpha" type="range" min="0" max="1" step="0.05" .value=${String(s.alpha)} @input=${(e: Event) => this.change({ alpha: Number(value(e)) })}>

        <label for="threshold">${msg('Threshold')}<kbd>, .</kbd></label>
        <input id="threshold" type="range" min="0" max="0.9" step="0.05" .value=${String(s.threshold)} @input=${(e: Event) => this.change({ threshold: Number(value(e)) })}>

        <label for="smoothing">${msg('Smoothing')}<kbd>s</kbd></label>
        <input id="smoothing" type="range" min="0" max="0.9" step="0.1" .value=${String(s.smoothing)} @input=${(e: Event) => this.change({ smoothing: Number(value(e)) })}>

        <label for="compare">${msg('Side by side')}<kbd>b</kbd></label>
        <select id="compare" @change=${(e: Event) => this.emit('compare-pairing', { pairing: value(e) as Pairing })}>
          ${(
            [
              ['off', msg('off: one view')],
              ['method', msg('CAM ↔ this view')],
              ['layer', msg('7×7 ↔ 14×14 layer')],
              ['class', msg('runner-up class')],
            ] as const
          ).map(([p, text]) => html`<option value=${p} ?selected=${pairingOf(s.compare, s) === p}>${text}</option>`)}
        </select>

        <label for="crop">${msg('Crop')}<kbd>x</kbd></label>
        <select id="crop" @change=${(e: Event) => this.change({ crop: value(e) as AppSettings['crop'] })}>
          <option value="center" ?selected=${s.crop === 'center'}>${msg('centre square')}</option>
          <option value="full" ?selected=${s.crop === 'full'}>${msg('whole frame (squashed)')}</option>
        </select>

        ${
          this.scrambleBlocks.length > 0
            ? html`
          <label for="scramble">${msg('Scramble')}</label>
          <select id="scramble" data-control="scramble" class=${s.scramble > 0 ? 'scrambled' : ''}
            @change=${(e: Event) => this.change({ scramble: Number(value(e)) })}>
            <option value="0" ?selected=${s.scramble === 0}>${msg('off: the real network')}</option>
            ${this.scrambleBlocks.map((b, i) => html`<option value=${i + 1} ?selected=${s.scramble === i + 1}>${msg(str`top ${i + 1} blocks (down to ${b})`)}</option>`)}
          </select>
          ${s.scramble > 0 ? html`<div class="scrambled-badge" data-control="scrambled-badge" role="status">${msg('The network is scrambled: random weights, not the real model')}</div>` : null}`
            : null
        }

        <label for="model">${msg('Model')}<kbd>n</kbd></label>
        <select id="model" @change=${(e: Event) => this.change({ model: value(e) })}>
          ${MODELS.filter((m) => m.fetch === 'default').map((m) => html`<option value=${m.id} ?selected=${s.model === m.id}>${m.displayName} — ${modelRole(m.note.split(':')[0] ?? '')}</option>`)}
          <optgroup label=${msg('More networks (loaded when picked, then kept offline)')}>
            ${MODELS.filter((m) => m.fetch === 'on-request').map((m) => html`<option value=${m.id} ?selected=${s.model === m.id}>${msg(str`${m.displayName} — ${Math.round(m.bytes / 1e6)} MB`)}</option>`)}
          </optgroup>
          ${this.stored.length > 0 ? html`<optgroup label=${msg('On this device')}>${this.stored.map((m) => html`<option value=${storedModelId(m.name)} ?selected=${s.model === storedModelId(m.name)}>${m.name}</option>`)}</optgroup>` : null}
        </select>

        ${
          this.cameras.length > 0
            ? html`
          <label for="camera">${msg('Camera')}</label>
          <select id="camera" @change=${(e: Event) => this.emit('camera-change', { camera: value(e) })}>
            ${this.cameras.map((c) => html`<option value=${c.deviceId} ?selected=${this.cameraId === c.deviceId}>${c.label}</option>`)}
            <option value="facing:environment">${msg('rear camera (phones)')}</option>
            <option value="facing:user">${msg('front camera (phones)')}</option>
          </select>
          <label for="resolution">${msg('Resolution')}</label>
          <select id="resolution" @change=${(e: Event) => this.change({ resolution: value(e) as Resolution })}>
            ${Object.keys(RESOLUTIONS).map((r) => html`<option value=${r} ?selected=${s.resolution === r}>${r}</option>`)}
          </select>`
            : null
        }
      </form>
      <div class="buttons">
        <button type="button" aria-pressed=${String(this.frozen)} ?disabled=${this.mode !== 'camera' && !this.frozen} @click=${() => this.act('freeze')}>${this.frozen ? msg('Resume') : msg('Freeze')}<kbd>${msg('space')}</kbd></button>
        <button type="button" aria-pressed=${String(s.method === 'cam')} @click=${() => this.act('toggle-cam')}>${msg('CAM ↔ default')}<kbd>c</kbd></button>
        <button type="button" @click=${() => this.act('open-image')}>${msg('Open photo')}<kbd>o</kbd></button>
        ${this.mode === 'image' && !this.frozen ? html`<button type="button" @click=${() => this.act('use-camera')}>${msg('Camera')}<kbd>v</kbd></button>` : null}
        <button type="button" @click=${() => this.act('save')}>${msg('Save PNG')}<kbd>w</kbd></button>
        <button type="button" aria-pressed=${String(s.mirror)} @click=${() => this.act('mirror')}>${msg('Mirror')}<kbd>f</kbd></button>
        <button type="button" data-control="presentation" aria-pressed=${String(s.presentation)} @click=${() => this.act('presentation')}>${msg('Present')}<kbd>g</kbd></button>
        <button type="button" data-control="hud" aria-pressed=${String(s.hud)} @click=${() => this.act('hud')}>${msg('HUD')}<kbd>h</kbd></button>
        <button type="button" data-control="help" @click=${() => this.act('help')}>${msg('Keys')}<kbd>?</kbd></button>
      </div>
    `;
  }

  private classLabels(): LabelSet {
    if (this.labels.length === 0) return IMAGENET_LABELS;
    if (this.labelSet?.names !== this.labels) this.labelSet = { names: this.labels, set: new LabelSet(this.labels) };
    return this.labelSet.set;
  }

  private pickClass(text: string): void {
    const m = /\((\d+)\)\s*$/.exec(text);
    if (!m) {
      this.lastPick = null;
      return;
    }
    const index = Number(m[1]);
    this.query = '';
    if (index === this.lastPick) return;
    this.lastPick = index;
    this.change({ classIndex: index });
  }

  private change(partial: Partial<AppSettings>): void {
    this.emit('settings-change', partial);
  }

  private act(action: Action): void {
    this.emit('action', { action });
  }

  private emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }
}

/** The registry's one-word role of a model ("default", "fast"), in the page's language. */
function modelRole(role: string): string {
  if (role === 'default') return msg('default');
  if (role === 'fast') return msg('fast');
  return role;
}

function value(e: Event): string {
  return (e.target as HTMLInputElement | HTMLSelectElement).value;
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-controls': Controls;
  }
}
