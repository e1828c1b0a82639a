import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ResultMessage } from '../../protocol.js';
import type { WhyCamStatus } from '../automation.js';
import type { HudFigures } from '../hud.js';
import type { PaintedEvent } from '../live-view.js';
import { RateMeter, RollingSamples } from '../stats.js';

type Stages = NonNullable<HudFigures['stages']>;

/** Live heatmaps are judged slow only after this long of one camera session (the rate's whole window). */
const SLOW_AFTER_MS = 2000;

/**
 * What the performance panel and the automation API report, all measured on painted heatmaps:
 * heatmaps per second, latency from capture to paint, the worker's stage times, and which settings
 * the last painted heatmaps had. The panel is refreshed twice a second, not per frame.
 */
export class MeasurementsController implements ReactiveController {
  /** Heatmaps painted so far. */
  painted = 0;
  firstPainted: number | null = null;
  /** Bumped twice a second: the panel re-renders with it. */
  tick = 0;
  private readonly latency = new RollingSamples(120);
  private readonly rate = new RateMeter(2000);
  private readonly stageSamples: ResultMessage['timings'][] = [];
  private readonly recentPaints: WhyCamStatus['recent'] = [];
  /** Results waiting for their paint, by result number. */
  private readonly awaitingPaint = new Map<number, ResultMessage>();
  private timer = 0;
  private figuresTick = -1;
  private cachedFigures: HudFigures | null = null;
  private slowReported = false;
  /** Camera heatmaps painted since the last restart, and when the first of them was. */
  private livePaints = 0;
  private liveSince: number | null = null;

  /**
   * `slow` hears the rate once a few seconds of live heatmaps have come slower than a camera needs
   * (under 8 per second); it answers whether it acted on it, and is not asked again once it did.
   * Only the current camera session counts: not photos, frozen frames or an earlier session (after
   * a photo the rate starts again, and its first frames are no measure of the device).
   */
  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly slow: (rate: number) => boolean,
  ) {
    host.addController(this);
  }

  /** The performance panel's figures, recomputed on the half-second tick rather than per frame. */
  figures(compute: () => HudFigures | null): HudFigures | null {
    if (this.figuresTick !== this.tick) {
      this.figuresTick = this.tick;
      this.cachedFigures = compute();
    }
    return this.cachedFigures;
  }

  hostConnected(): void {
    this.timer = window.setInterval(() => {
      this.tick++;
      this.host.requestUpdate();
    }, 500);
  }

  hostDisconnected(): void {
    clearInterval(this.timer);
  }

  /** A new camera session or source: rates and latencies start again. */
  restart(): void {
    this.latency.clear();
    this.rate.clear();
    this.livePaints = 0;
    this.liveSince = null;
  }

  received(r: ResultMessage): void {
    this.stageSamples.push(r.timings);
    if (this.stageSamples.length > 30) this.stageSamples.shift();
    this.awaitingPaint.set(r.frame, r);
  }

  /** The view's `painted` event (an arrow: Lit calls listeners with the host as `this`). */
  onPainted = (e: PaintedEvent): void => {
    this.painted++;
    this.firstPainted ??= performance.now();
    const r = this.awaitingPaint.get(e.detail.frame);
    this.awaitingPaint.clear();
    if (r) {
      this.recentPaints.push({
        frame: this.painted,
        method: r.method,
        layer: r.layer,
        classIndex: r.target.classIndex,
        width: r.heatmap.width,
      });
      if (this.recentPaints.length > 30) this.recentPaints.shift();
    }
    const now = performance.now();
    this.rate.tick(now);
    if (e.detail.captureTime === null) return; // a still picture: no measure of live speed
    this.latency.add(e.detail.paintedAt - e.detail.captureTime);
    this.livePaints++;
    this.liveSince ??= now;
    if (this.slowReported || this.livePaints < 20 || now - this.liveSince < SLOW_AFTER_MS) return;
    const rate = this.heatmapsPerSecond;
    if (rate < 8) this.slowReported = this.slow(rate);
  };

  get heatmapsPerSecond(): number {
    return this.rate.rate(performance.now());
  }

  get latencyMs(): { p50: number | null; p95: number | null } {
    return { p50: this.latency.percentile(50), p95: this.latency.percentile(95) };
  }

  /** The worker's time for its latest frame (the watchdog's yardstick). */
  get lastFrameMs(): number {
    return this.stageSamples.at(-1)?.totalMs ?? 0;
  }

  get recent(): WhyCamStatus['recent'] {
    return [...this.recentPaints];
  }

  /** Mean time per stage over the recent frames. */
  stages(): Stages | null {
    const n = this.stageSamples.length;
    if (n === 0) return null;
    const mean = (k: Exclude<keyof ResultMessage['timings'], 'idleMs'>): number =>
      this.stageSamples.reduce((a, t) => a + t[k], 0) / n;
    // Idle is a median: one long pause (a settings change, a hidden page) says nothing of the frame path.
    const idle = this.stageSamples.flatMap((t) => (t.idleMs === null ? [] : [t.idleMs])).sort((a, b) => a - b);
    return {
      waitMs: mean('waitMs'),
      idleMs: idle.length ? idle[idle.length >> 1]! : null,
      preprocessMs: mean('preprocessMs'),
      forwardMs: mean('forwardMs'),
      heatmapMs: mean('heatmapMs'),
      readbackMs: mean('readbackMs'),
    };
  }
}
