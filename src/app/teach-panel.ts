import { localized, msg, str } from '@lit/localize';
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { storedModelId } from './model-store.js';
import './teach-confusion.js';
import {
  MAX_CLASSES,
  MIN_CLASSES,
  type StoredSummary,
  type TeachAction,
  type TeachClass,
  type TeachView,
} from './teach-types.js';

/**
 * Teach mode and the models kept on this device: classes with their recorded or added examples,
 * training with its progress and accuracy, and the list of taught and opened models.
 */
@localized()
@customElement('whycam-teach-panel')
export class TeachPanel extends LitElement {
  static override styles = css`
    :host { display: block; }
    button { font: inherit; min-height: 2.2rem; padding: 0.25rem 0.7rem; border-radius: 0.35rem; border: 1px solid var(--track, #333b4a);
      background: var(--panel-2, #1d2330); color: inherit; cursor: pointer; }
    button:focus-visible, input:focus-visible, .class:focus-visible { outline: 2px solid var(--accent, #ffcc00); }
    button[aria-pressed='true'] { background: #c62828; color: #fff; }
    button:disabled { opacity: 0.5; cursor: default; }
    input[type='text'] { font: inherit; background: var(--panel-2, #1d2330); color: inherit; border: 1px solid var(--track, #333b4a);
      border-radius: 0.3rem; padding: 0.2rem 0.3rem; min-width: 0; flex: 1; }
    .row { display: flex; gap: 0.4rem; align-items: center; flex-wrap: wrap; margin: 0.4rem 0; }
    .class { border: 1px solid var(--track, #333b4a); border-radius: 0.4rem; padding: 0.4rem; margin: 0.4rem 0; }
    .class.drop { border-color: var(--accent, #ffcc00); }
    .count { font-size: 0.85em; opacity: 0.8; }
    .thumbs { display: flex; flex-wrap: wrap; gap: 0.2rem; }
    .thumb { position: relative; width: 2.6rem; height: 2.6rem; }
    .thumb img { width: 100%; height: 100%; object-fit: cover; border-radius: 0.2rem; }
    .thumb[data-state='pending'] img { opacity: 0.4; }
    .thumb[data-state='failed'] img { outline: 2px solid #c62828; }
    .thumb button { position: absolute; top: -0.3rem; right: -0.3rem; min-height: 0; padding: 0 0.3rem; font-size: 0.75em; line-height: 1.2; }
    progress { width: 100%; }
    .note { font-size: 0.8em; opacity: 0.8; margin: 0.3rem 0; }
    ul { list-style: none; padding: 0; margin: 0.3rem 0; }
    li { display: flex; gap: 0.3rem; align-items: center; flex-wrap: wrap; margin: 0.2rem 0; }
    li .name { flex: 1; }
    li[aria-current='true'] .name { font-weight: bold; }
  `;

  @property({ attribute: false }) teach!: TeachView;
  /** The models kept on this device. */
  @property({ attribute: false }) stored: readonly StoredSummary[] = [];
  /** The model in use (its id), to mark it in the list. */
  @property({ attribute: false }) model = '';
  @property({ attribute: false }) methodNotes: string | null = null;
  /** The own model in use: what was recognised and what was assumed (the worker's English sentences). */
  @property({ attribute: false }) modelSummary: readonly string[] = [];
  /** Changes when the controller's state does: the controller is mutated in place, so Lit needs a hint. */
  @property({ attribute: false }) revision = 0;
  private modelName = '';
  private dropTarget: number | null = null;

  protected override render() {
    const t = this.teach;
    if (!t) return null;
    // The model-files input has no accept filter: tensorflowjs_converter's weight shards
    // (group1-shard1of1) have no extension, and a labels.txt goes with them.
    return html`
      ${t.open ? this.renderTeach() : html`<div class="row"><button type="button" data-teach="open" @click=${() => this.act({ op: 'toggle' })}>${msg('Teach new classes')}</button></div>`}
      ${this.methodNotes ? html`<p class="note" data-teach="method-notes">${this.methodNotes}</p>` : null}
      ${this.modelSummary.map((line) => html`<p class="note" data-teach="model-summary">${line}</p>`)}
      <h3>${msg('Models on this device')}</h3>
      <ul>
        ${this.stored.map((m) => this.renderStored(m))}
      </ul>
      <div class="row">
        <button type="button" data-teach="open-files" @click=${() => this.pick('model-files')}>${msg('Open model files…')}</button>
        <button type="button" data-teach="open-folder" @click=${() => this.pick('model-folder')}>${msg('Open a model folder…')}</button>
        <input id="model-files" type="file" multiple hidden @change=${(e: Event) => this.picked(e, (files) => ({ op: 'open-files', files }))}>
        <input id="model-folder" type="file" webkitdirectory hidden @change=${(e: Event) => this.picked(e, (files) => ({ op: 'open-files', files }))}>
      </div>
      <p class="note">${msg('Teachable Machine exports (model.json, weights.bin, metadata.json, or their zip), exported taught models, your own Keras model (model.json with its weight files from tensorflowjs_converter) and your own ONNX model (one .onnx file, from torch.onnx.export), each with a labels.txt of one class name a line if it has its own classes, can be opened or dropped here.')}</p>
    `;
  }

  private renderTeach() {
    const t = this.teach;
    const training = t.progress !== null;
    const ready =
      t.classes.length >= MIN_CLASSES &&
      t.classes.every((c) => c.name.trim() !== '' && c.examples.some((e) => e.state === 'ok'));
    const p = t.progress;
    return html`
      <p class="note">${msg('Examples stay on this device: the worker keeps only their features, in memory. A saved or exported model holds the taught weights, never the pictures.')}</p>
      ${t.classes.map((c) => this.renderClass(c))}
      <div class="row">
        <button type="button" ?disabled=${t.classes.length >= MAX_CLASSES} @click=${() => this.act({ op: 'add-class' })}>${msg('Add a class')}</button>
        <button type="button" @click=${() => this.act({ op: 'reset' })}>${msg('Start over')}</button>
        <button type="button" @click=${() => this.act({ op: 'toggle' })}>${msg('Close')}</button>
      </div>
      <div class="row">
        <input type="text" aria-label=${msg('Name of the taught model')} placeholder=${t.classes.map((c) => c.name).join(' · ')}
          .value=${this.modelName} @input=${(e: Event) => {
            this.modelName = (e.target as HTMLInputElement).value;
          }}>
        <button type="button" data-teach="train" ?disabled=${!ready || training} @click=${() => this.act({ op: 'train', name: this.modelName })}>${msg('Train')}</button>
      </div>
      ${
        p
          ? html`
        <progress data-teach="progress" max=${p.stage === 'training' ? p.epochs : 1} value=${p.stage === 'training' ? p.epoch : 0}></progress>
        <p class="note">${
          p.stage === 'base'
            ? msg('Loading the base model…')
            : p.stage === 'loading'
              ? msg('Loading the taught model…')
              : msg(str`Training: pass ${p.epoch} of ${p.epochs}. The live view keeps running.`)
        }</p>`
          : null
      }
      ${
        t.result
          ? html`<p data-teach="accuracy">${
              t.result.accuracy === null
                ? msg(
                    str`Taught "${t.result.name}" in ${(t.result.trainMs / 1000).toFixed(1)} s. Too few examples to hold any back: add 5 or more per class to measure accuracy.`,
                  )
                : msg(
                    str`Taught "${t.result.name}" in ${(t.result.trainMs / 1000).toFixed(1)} s. Held-back examples recognised: ${Math.round(t.result.accuracy * 100)}%.`,
                  )
            }</p>
            <whycam-teach-confusion .report=${t.report} .thumbOf=${(id: number) => t.thumbOf(id)}></whycam-teach-confusion>`
          : null
      }
    `;
  }

  private renderClass(c: TeachClass) {
    const t = this.teach;
    const recording = t.recording === c.key;
    const count = c.examples.filter((e) => e.state === 'ok').length;
    return html`
      <div class="class ${this.dropTarget === c.key ? 'drop' : ''}" tabindex="0" data-class=${c.key} aria-label=${msg(str`Class ${c.name}: paste or drop photos here`)}
        @paste=${(e: ClipboardEvent) => this.onPaste(e, c.key)} @dragover=${(e: DragEvent) => this.onDragOver(e, c.key)}
        @dragleave=${() => this.setDrop(null)} @drop=${(e: DragEvent) => this.onDrop(e, c.key)}>
        <div class="row">
          <input type="text" aria-label=${msg('Class name')} .value=${c.name} @change=${(e: Event) => this.act({ op: 'rename', key: c.key, name: (e.target as HTMLInputElement).value })}>
          <span class="count" aria-live="polite">${msg(str`${count} examples`)}</span>
          <button type="button" title=${msg('Remove this class')} ?disabled=${t.classes.length <= MIN_CLASSES} @click=${() => this.act({ op: 'remove-class', key: c.key })}>×</button>
        </div>
        <div class="row">
          <button type="button" aria-pressed=${String(recording)} @pointerdown=${() => this.act({ op: 'record', key: c.key, on: true })}
            @pointerup=${() => this.act({ op: 'record', key: c.key, on: false })} @pointerleave=${() => recording && this.act({ op: 'record', key: c.key, on: false })}
            @keydown=${(e: KeyboardEvent) => this.recordKey(e, c.key, true)} @keyup=${(e: KeyboardEvent) => this.recordKey(e, c.key, false)}>
            ${recording ? msg('Recording…') : msg('Hold to record')}</button>
          <button type="button" @click=${() => this.pick(`photos-${c.key}`)}>${msg('Add photos')}</button>
          <input id=${`photos-${c.key}`} type="file" accept="image/*" multiple hidden @change=${(e: Event) => this.picked(e, (files) => ({ op: 'photos', key: c.key, files }))}>
        </div>
        <div class="thumbs">
          ${c.examples.map(
            (e) => html`<div class="thumb" data-state=${e.state}>${e.thumb ? html`<img src=${e.thumb} alt="">` : null}
            <button type="button" title=${msg('Remove this example')} @click=${() => this.act({ op: 'remove-example', key: c.key, id: e.id })}>×</button></div>`,
          )}
        </div>
      </div>`;
  }

  private renderStored(m: StoredSummary) {
    const current = this.model === storedModelId(m.name);
    return html`<li aria-current=${String(current)} data-stored=${m.name}>
      <span class="name">${m.name} <span class="count">(${originName(m.origin)}: ${classList(m.labels)})</span></span>
      <button type="button" ?disabled=${current} @click=${() => this.act({ op: 'use', name: m.name })}>${msg('Use')}</button>
      <button type="button" @click=${() => this.act({ op: 'export', name: m.name })}>${msg('Export')}</button>
      <button type="button" @click=${() => this.act({ op: 'delete', name: m.name })}>${msg('Delete')}</button>
    </li>`;
  }

  private recordKey(e: KeyboardEvent, key: number, on: boolean): void {
    if (e.key !== ' ' && e.key !== 'Enter') return;
    e.preventDefault();
    e.stopPropagation(); // not the page's shortcuts (space freezes)
    if (!on || !e.repeat) this.act({ op: 'record', key, on });
  }

  private onPaste(e: ClipboardEvent, key: number): void {
    const files = [...(e.clipboardData?.files ?? [])].filter((f) => f.type.startsWith('image/'));
    if (files.length === 0) return;
    e.preventDefault();
    e.stopPropagation(); // the page would open it as the picture to explain
    this.act({ op: 'photos', key, files });
  }

  private onDragOver(e: DragEvent, key: number): void {
    if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
    e.preventDefault();
    e.stopPropagation();
    this.setDrop(key);
  }

  private onDrop(e: DragEvent, key: number): void {
    this.setDrop(null);
    const files = [...(e.dataTransfer?.files ?? [])].filter((f) => f.type.startsWith('image/'));
    if (files.length === 0) return;
    e.preventDefault();
    e.stopPropagation();
    this.act({ op: 'photos', key, files });
  }

  private setDrop(key: number | null): void {
    this.dropTarget = key;
    this.requestUpdate();
  }

  private pick(id: string): void {
    this.renderRoot.querySelector<HTMLInputElement>(`#${id}`)?.click();
  }

  private picked(e: Event, action: (files: File[]) => TeachAction): void {
    const input = e.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length > 0) this.act(action(files));
  }

  private act(action: TeachAction): void {
    this.dispatchEvent(new CustomEvent('teach-action', { detail: action, bubbles: true, composed: true }));
  }
}

/** How a kept model came to be, in the page's language ("Teachable Machine" is a product name). */
function originName(origin: StoredSummary['origin']): string {
  return origin === 'taught'
    ? msg('taught')
    : origin === 'keras' || origin === 'onnx'
      ? msg('own model')
      : 'Teachable Machine';
}

/** A kept model's classes: all of a few, or the first of many (an own ImageNet model has 1000) and their count. */
function classList(labels: readonly string[]): string {
  return labels.length <= 8
    ? labels.join(', ')
    : msg(str`${labels.slice(0, 3).join(', ')}, … (${labels.length} classes)`);
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-teach-panel': TeachPanel;
  }
}
