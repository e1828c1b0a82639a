import { localized, msg, str } from '@lit/localize';
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';

export interface HudFigures {
  heatmapsPerSecond: number;
  cameraFps: number | null;
  latencyMs: { p50: number | null; p95: number | null };
  /** Mean time per stage over recent frames. */
  stages: {
    waitMs: number;
    /** Median time the worker sat idle before a camera frame (null: no camera frames). */
    idleMs: number | null;
    preprocessMs: number;
    forwardMs: number;
    heatmapMs: number;
    readbackMs: number;
  } | null;
  /** For a still picture (photo, frozen frame): the worker's time for its explanation; null while live. */
  stillMs: number | null;
  /** How camera frames reach the worker, in words (null without a camera). */
  framePath: string | null;
  backend: string;
  backendNotes: readonly string[];
  model: string;
  layer: string;
  grid: string;
  method: string;
  reduction: string;
  /** A sentence when the current settings give the same map as another (e.g. Grad-CAM = CAM here). */
  coincidence: string | null;
}

const ms = (v: number | null | undefined): string =>
  v === null || v === undefined ? '–' : msg(str`${v.toFixed(v < 10 ? 1 : 0)} ms`);

/** Speed and configuration, all measured: heatmaps per second, camera rate, latency, stages. */
@customElement('whycam-hud')
@localized()
export class Hud extends LitElement {
  static override styles = css`
    :host { display: block; font: 0.85em/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
    dl { display: grid; grid-template-columns: auto 1fr; gap: 0.1rem 0.75rem; margin: 0; }
    dt { opacity: 0.75; }
    dd { margin: 0; font-variant-numeric: tabular-nums; }
    .note { margin-top: 0.4rem; font-family: system-ui, sans-serif; font-size: 1.05em; color: var(--accent, #ffcc00); }
    details { margin-top: 0.3rem; }
  `;

  @property({ attribute: false }) figures: HudFigures | null = null;

  protected override render() {
    const f = this.figures;
    if (!f) return html`<p>${msg('Waiting for the first heatmap…')}</p>`;
    const s = f.stages;
    return html`
      <dl>
        <dt>${msg('heatmaps/s')}</dt><dd data-hud="rate">${f.heatmapsPerSecond.toFixed(1)}</dd>
        <dt>${msg('camera')}</dt><dd data-hud="camera">${f.cameraFps === null ? '–' : msg(str`${f.cameraFps.toFixed(1)} fps`)}</dd>
        <dt>${msg('latency')}</dt><dd data-hud="latency">p50 ${ms(f.latencyMs.p50)} · p95 ${ms(f.latencyMs.p95)}</dd>
        <dt>${msg('stages')}</dt><dd data-hud="stages">${s ? msg(str`wait ${ms(s.waitMs)} · idle ${ms(s.idleMs)} · frame→tensor ${ms(s.preprocessMs)} · forward ${ms(s.forwardMs)} · heatmap ${ms(s.heatmapMs)} · read-back ${ms(s.readbackMs)}`) : '–'}</dd>
        <dt>${msg('backend')}</dt><dd data-hud="backend">${f.backend}</dd>
        ${f.framePath ? html`<dt>${msg('frames')}</dt><dd data-hud="frame-path">${f.framePath}</dd>` : null}
        <dt>${msg('model')}</dt><dd>${f.model}</dd>
        <dt>${msg('map')}</dt><dd data-hud="map">${f.method} · ${f.layer} (${f.grid}) · ${f.reduction}</dd>
      </dl>
      ${f.coincidence ? html`<div class="note" data-hud="coincidence">${f.coincidence}</div>` : null}
      ${f.backendNotes.length > 0 ? html`<details><summary>${msg(str`why ${f.backend}`)}</summary><ul>${f.backendNotes.map((n) => html`<li>${n}</li>`)}</ul></details>` : null}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-hud': Hud;
  }
}
