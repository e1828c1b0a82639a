import { msg, str } from '@lit/localize';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { HeatmapSmoother } from '../../explain/methods/heatmap.js';
import type { ResultMessage } from '../../protocol.js';
import type { OverlayFrame } from '../live-view.js';

/**
 * The newest explanation the page shows: the worker's result with the page's smoothing applied,
 * and the overlay frame handed to the view (one object per result, so the view paints it once).
 */
export class ExplanationController implements ReactiveController {
  latest: ResultMessage | null = null;
  frame: OverlayFrame | null = null;
  private readonly smoother = new HeatmapSmoother();

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.latest = null;
    this.frame = null;
    this.smoother.reset();
  }

  accept(r: ResultMessage, smoothing: number): void {
    if (smoothing === 0) this.smoother.reset();
    const heatmap = smoothing > 0 ? this.smoother.smooth(r.heatmap, smoothing) : r.heatmap;
    this.latest = { ...r, heatmap };
    this.frame = { heatmap, region: r.region, sourceSize: r.sourceSize, captureTime: r.captureTime, frame: r.frame };
    this.host.requestUpdate();
  }

  /** A new source: what was shown answered the previous picture, so it is dropped until the new one's result arrives. */
  clear(): void {
    this.latest = null;
    this.frame = null;
    this.smoother.reset();
    this.host.requestUpdate();
  }

  /** The next heatmap starts a new smoothing run (new settings, source or camera). */
  restart(): void {
    this.smoother.reset();
  }

  /** "golden retriever 78%", over the picture. */
  label(pinned: boolean): string {
    const target = this.latest?.target;
    if (!target) return '';
    const text = `${target.label} ${(target.score * 100).toFixed(0)}%`;
    return pinned ? msg(str`${text} (pinned)`) : text;
  }
}
