import { localized, msg, str } from '@lit/localize';
import { css, html, LitElement } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ReportHeatmap, TeachReport } from '../explain/teach/teach-report.js';
import { COLORMAP_TABLES } from '../explain/render/colormaps.js';

/**
 * Teach mode's mistakes: the confusion matrix of the held-back examples (rows: the true class,
 * columns: what the taught model said). A cell opens its examples, each with the map of the
 * predicted class and of the true class over its thumbnail, so a class sees what the model used.
 */
@localized()
@customElement('whycam-teach-confusion')
export class TeachConfusion extends LitElement {
  static override styles = css`
    :host { display: block; margin-top: 0.5rem; }
    table { border-collapse: collapse; font-size: 0.85em; }
    th, td { border: 1px solid var(--track, #333b4a); padding: 0.15rem 0.3rem; text-align: center; }
    th { font-weight: normal; opacity: 0.85; max-width: 6rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    td button { font: inherit; min-width: 2rem; min-height: 1.8rem; border: 0; border-radius: 0.2rem; cursor: pointer; color: inherit; background: transparent; }
    td.right button { background: rgba(46, 125, 50, 0.55); }
    td.wrong button { background: rgba(198, 40, 40, 0.7); }
    td button[aria-pressed='true'] { outline: 2px solid var(--accent, #ffcc00); }
    .examples { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-top: 0.4rem; }
    .example { display: flex; gap: 0.3rem; align-items: center; flex-wrap: wrap; font-size: 0.8em; }
    figure { margin: 0; position: relative; width: 4.6rem; }
    figure .pic { position: relative; width: 4.6rem; height: 4.6rem; background: #222; }
    figure img { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: cover; }
    figure img.map { opacity: 0.5; image-rendering: auto; }
    figcaption { font-size: 0.8em; line-height: 1.2; overflow-wrap: anywhere; }
    .note { font-size: 0.8em; opacity: 0.8; margin: 0.3rem 0; }
  `;

  @property({ attribute: false }) report: TeachReport | null = null;
  /** An example's thumbnail by its id ('' when it has none). */
  @property({ attribute: false }) thumbOf: (exampleId: number) => string = () => '';
  @state() private cell: [number, number] | null = null;

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('report')) this.cell = null;
  }

  protected override render() {
    const r = this.report;
    if (!r) return null;
    if (r.examples.length === 0)
      return html`<p class="note" data-teach="no-confusion">${msg('No examples were held back, so there is nothing to check the model on: add 5 or more per class.')}</p>`;
    return html`
      <p class="note">${msg('Held-back examples: rows are what they are, columns what the model said. Tap a number to see those examples and the maps.')}</p>
      <table data-teach="confusion">
        <tr><th></th>${r.labels.map((l) => html`<th scope="col" title=${l}>${l}</th>`)}</tr>
        ${r.confusion.map(
          (row, t) =>
            html`<tr><th scope="row" title=${r.labels[t]}>${r.labels[t]}</th>${row.map(
              (n, p) => html`<td class=${n === 0 ? '' : t === p ? 'right' : 'wrong'}>
              <button type="button" data-cell=${`${t}-${p}`} ?disabled=${n === 0} aria-pressed=${String(this.isCell(t, p))}
                aria-label=${msg(str`${n} examples of ${r.labels[t] ?? ''} taken for ${r.labels[p] ?? ''}`)}
                @click=${() => this.pick(t, p)}>${n}</button></td>`,
            )}</tr>`,
        )}
      </table>
      ${this.cell ? this.renderExamples(r, this.cell) : null}
    `;
  }

  private renderExamples(r: TeachReport, [t, p]: [number, number]) {
    const shown = r.examples.filter((e) => e.trueClass === t && e.predictedClass === p);
    const trueLabel = r.labels[t] ?? '';
    const predicted = r.labels[p] ?? '';
    return html`<div class="examples" data-teach="cell-examples">
      ${shown.map((e) => {
        const thumb = this.thumbOf(e.exampleId);
        return html`<div class="example" data-example=${e.exampleId}>
          ${this.figure(thumb, e.heatmap, msg(str`map of ${predicted} (said, ${Math.round(e.score * 100)}%)`), 'predicted')}
          ${t === p ? null : this.figure(thumb, e.trueHeatmap, msg(str`map of ${trueLabel} (true)`), 'true')}
        </div>`;
      })}
    </div>`;
  }

  private figure(thumb: string, map: ReportHeatmap, caption: string, which: string) {
    return html`<figure data-map=${which}><div class="pic">${thumb ? html`<img src=${thumb} alt="">` : null}
      <img class="map" src=${heatmapUrl(map)} alt=${caption}></div><figcaption title=${caption}>${caption}</figcaption></figure>`;
  }

  private isCell(t: number, p: number): boolean {
    return this.cell !== null && this.cell[0] === t && this.cell[1] === p;
  }

  private pick(t: number, p: number): void {
    this.cell = this.isCell(t, p) ? null : [t, p];
  }
}

const urls = new WeakMap<ReportHeatmap, string>();

/** A small map as a PNG data URL in the jet colours (scaled up by the browser, smoothly), made once per map. */
function heatmapUrl(map: ReportHeatmap): string {
  const known = urls.get(map);
  if (known) return known;
  const canvas = document.createElement('canvas');
  canvas.width = map.width;
  canvas.height = map.height;
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(map.width, map.height);
  const table = COLORMAP_TABLES.jet;
  for (let i = 0; i < map.data.length; i++) {
    const v = Math.round(Math.min(Math.max(map.data[i]!, 0), 1) * 255) * 3;
    image.data.set([table[v]!, table[v + 1]!, table[v + 2]!, 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
  const url = canvas.toDataURL('image/png');
  urls.set(map, url);
  return url;
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-teach-confusion': TeachConfusion;
  }
}
