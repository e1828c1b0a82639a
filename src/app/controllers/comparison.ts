import { msg, str } from '@lit/localize';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { defaultView } from '../../../models/registry.js';
import type { Prediction } from '../../explain/methods/types.js';
import { HeatmapSmoother } from '../../explain/methods/heatmap.js';
import { METHOD_NAMES, METHODS, type Method } from '../../explain/methods/names.js';
import type { CompareSettings, ReadyMessage, ResultMessage } from '../../protocol.js';
import type { WhyCamStatus } from '../automation.js';
import type { OverlayFrame } from '../live-view.js';
import type { AppSettings } from '../settings.js';

/** The pairings the side-by-side menu offers. */
export type Pairing = 'off' | 'method' | 'layer' | 'class';

/** What one view shows, as its label says it. */
interface ShownView {
  method: Method;
  layer: string;
  target: Prediction;
  contrast: Prediction | null;
}

/**
 * Side by side and "why A and not B" on the page: the second view's overlay frame (smoothed like
 * the first), what each view says it shows, the pairings, and what the automation API reports.
 */
export class ComparisonController implements ReactiveController {
  /** The second view's overlay frame; null while one view is shown. */
  frame: OverlayFrame | null = null;
  private latest: ResultMessage | null = null;
  private readonly smoother = new HeatmapSmoother();

  constructor(host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.restart();
  }

  accept(r: ResultMessage, smoothing: number): void {
    this.latest = r;
    const c = r.compared;
    if (!c) {
      this.restart();
      return;
    }
    if (smoothing === 0) this.smoother.reset();
    const heatmap = smoothing > 0 ? this.smoother.smooth(c.heatmap, smoothing) : c.heatmap;
    this.frame = { heatmap, region: r.region, sourceSize: r.sourceSize, captureTime: r.captureTime, frame: r.frame };
  }

  /** New settings or source: the next maps start a new smoothing run. */
  restart(): void {
    this.frame = null;
    this.smoother.reset();
  }

  /** The first view's label: "golden retriever 78%, not Labrador retriever"; with two views it names the method and layer too. */
  firstLabel(r: ResultMessage | null, pinned: boolean): string {
    if (!r) return '';
    const label = viewLabel(r, r.compared !== null);
    return pinned && !r.contrast ? msg(str`${label} (pinned)`) : label;
  }

  secondLabel(): string {
    const r = this.latest;
    return r?.compared ? viewLabel({ ...r.compared }, true) : '';
  }

  /** The HUD line's method/layer part: one view, or both. */
  shown(r: ResultMessage | null): string {
    if (!r) return '';
    const first = `${METHOD_NAMES[r.method]} · ${r.layer}`;
    return r.compared ? `${first} | ${METHOD_NAMES[r.compared.method]} · ${r.compared.layer}` : first;
  }

  /** `status().views`: both views of the latest frame, while a comparison is on. */
  views(r: ResultMessage | null): WhyCamStatus['views'] {
    const c = r?.compared;
    if (!r || !c) return null;
    return [r, c].map((v) => ({
      method: v.method,
      layer: v.layer,
      classIndex: v.target.classIndex,
      contrastClass: v.contrast?.classIndex ?? null,
      label: viewLabel(v, true),
      heatmap: { width: v.heatmap.width, height: v.heatmap.height, data: Array.from(v.heatmap.data) },
    }));
  }
}

/** "CAM · conv_pw_13_relu — golden retriever 78%" (named) or "golden retriever 78%", with ", not Labrador retriever" for a contrast. */
function viewLabel(v: ShownView, named: boolean): string {
  const score = (v.target.score * 100).toFixed(0);
  const what = v.contrast ? msg(str`${v.target.label}, not ${v.contrast.label}`) : `${v.target.label} ${score}%`;
  return named ? `${METHOD_NAMES[v.method]} · ${v.layer} — ${what}` : what;
}

/**
 * The second view's settings for a pairing: CAM against the view (or the default view against CAM),
 * the other of the 7×7 and 14×14 layers, or the runner-up class against the explained one.
 */
export function pairing(
  kind: Pairing,
  s: AppSettings,
  ready: ReadyMessage | null,
  predictions: readonly Prediction[],
): CompareSettings | null {
  const view = defaultView(s.model);
  switch (kind) {
    case 'off':
      return null;
    case 'method':
      return s.method === 'cam' ? { method: view.method, layer: view.layer } : { method: 'cam' };
    case 'layer': {
      const camLayer = ready?.camLayer ?? ready?.lastConvLayer ?? 'auto';
      const current = s.method === 'cam' || s.layer === 'auto' ? camLayer : s.layer;
      return {
        method: s.method === 'cam' ? 'layercam' : s.method,
        layer: current === camLayer ? view.layer : camLayer,
      };
    }
    case 'class': {
      const explained = s.classIndex ?? predictions[0]?.classIndex;
      const other = predictions.find((p) => p.classIndex !== explained);
      return other ? { classIndex: other.classIndex } : null;
    }
  }
}

/** Which pairing the settings show, for the menu. */
export function pairingOf(compare: CompareSettings | null, s: AppSettings): Pairing {
  if (!compare) return 'off';
  if (compare.classIndex !== undefined) return 'class';
  return compare.method === 'cam' || s.method === 'cam' || compare.layer === undefined ? 'method' : 'layer';
}

/** Checks `set({ compare, contrastClass })` before applying it. */
export function checkClassroomSet(
  p: { compare?: CompareSettings | null; contrastClass?: number | null },
  classes: number,
): void {
  const c = p.compare;
  if (c !== undefined && c !== null) {
    if (typeof c !== 'object') throw new Error('compare must be null or { method?, layer?, classIndex? }');
    if (c.method !== undefined && !METHODS.includes(c.method))
      throw new Error(`Unknown compare.method ${c.method}; valid: ${METHODS.join(', ')}`);
    if (
      c.classIndex !== undefined &&
      c.classIndex !== null &&
      !(Number.isInteger(c.classIndex) && c.classIndex >= 0 && c.classIndex < classes)
    ) {
      throw new Error(`compare.classIndex must be 0-${classes - 1} or null`);
    }
  }
  const b = p.contrastClass;
  if (b !== undefined && b !== null && !(Number.isInteger(b) && b >= 0 && b < classes))
    throw new Error(`contrastClass must be 0-${classes - 1} or null`);
}
