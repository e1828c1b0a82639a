import { localized, msg, str } from '@lit/localize';
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ClipState } from '../controllers/clip-explain.js';
import type { VideoPosition } from '../controllers/video-source.js';

/** "1:05.3" */
function clock(seconds: number, tenths = true): string {
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  return `${m}:${(tenths ? s.toFixed(1) : Math.floor(s).toString()).padStart(tenths ? 4 : 2, '0')}`;
}

/** "frame 123 / 244 · 4.92 s": the HUD line's and the bar's words for where the clip is. */
export function positionText(p: VideoPosition): string {
  return msg(str`frame ${p.frame + 1} / ${p.frames} · ${p.time.toFixed(2)} s`);
}

/**
 * Under the picture: for a video file, play / pause, a seek slider, the frame and time, and
 * "Explain the whole clip" (with its progress and Cancel); for any source, Record (with the time recorded).
 */
@customElement('whycam-source-bar')
@localized()
export class SourceBar extends LitElement {
  static override styles = css`
    :host { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem 0.6rem; padding: 0.3rem 0;
      font: 0.9rem/1.3 system-ui, sans-serif; color: inherit; }
    input[type=range] { flex: 1 1 12rem; min-width: 8rem; }
    button, select { font: inherit; padding: 0.2rem 0.6rem; }
    .time { font-variant-numeric: tabular-nums; white-space: nowrap; }
    .rec { color: #e53935; font-weight: 700; font-variant-numeric: tabular-nums; }
    progress { width: 8rem; }
  `;

  @property({ attribute: false }) position: VideoPosition | null = null;
  @property() clipState: ClipState = 'idle';
  @property({ type: Number }) done = 0;
  @property({ type: Number }) total = 0;
  @property({ type: Boolean }) recording = false;
  @property({ type: Number }) elapsedMs = 0;
  @property({ type: Boolean }) canRecord = false;

  private every = 1;

  protected override render() {
    const p = this.position;
    const running = this.clipState === 'running';
    return html`
      ${p ? this.videoControls(p, running) : null}
      <button data-action="record" ?disabled=${!this.canRecord && !this.recording} aria-pressed=${this.recording}
        @click=${() => this.fire('record')} title=${msg('Record the view as a WebM video (e)')}>
        ${this.recording ? msg('Stop recording') : msg('Record')}</button>
      ${this.recording ? html`<span class="rec" data-recording-time>● ${clock(this.elapsedMs / 1000, false)}</span>` : null}
    `;
  }

  private videoControls(p: VideoPosition, running: boolean) {
    return html`
      <button data-action="play" ?disabled=${running} @click=${() => this.fire('play-toggle')}>${p.paused ? msg('Play') : msg('Pause')}</button>
      <input type="range" min="0" max=${p.frames - 1} step="1" .value=${String(p.frame)} ?disabled=${running}
        aria-label=${msg('frame')} @input=${(e: Event) => this.onSlide(e, p)}>
      <span class="time" data-video-position>${positionText(p)} / ${clock(p.duration)}</span>
      ${
        running
          ? html`<progress max=${this.total} .value=${this.done}></progress>
            <span class="time">${this.done} / ${this.total}</span>
            <button data-action="cancel-clip" @click=${() => this.fire('cancel-clip')}>${msg('Cancel')}</button>`
          : html`<label>${msg('every')} <select aria-label=${msg('explain every n-th frame')} @change=${(e: Event) => {
              this.every = Number((e.target as HTMLSelectElement).value);
            }}>${[1, 2, 5, 10].map((n) => html`<option value=${n} ?selected=${n === this.every}>${n}</option>`)}</select></label>
            <button data-action="explain-clip" @click=${() => this.fire('explain-clip', { every: this.every })}>${msg('Explain the whole clip')}</button>`
      }
    `;
  }

  private onSlide(e: Event, p: VideoPosition): void {
    const frame = Number((e.target as HTMLInputElement).value);
    this.fire('seek', { time: ((frame + 0.5) * p.duration) / p.frames });
  }

  private fire(type: string, detail: object = {}): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-source-bar': SourceBar;
  }
}
