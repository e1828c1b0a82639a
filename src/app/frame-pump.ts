import type { FrameAckMessage } from '../protocol.js';
import { GrabChoice, type GrabChoiceSummary } from './grab-choice.js';

/** A camera frame as the page grabs it from the `<video>`: a VideoFrame or an ImageBitmap. */
export type GrabbedPicture = ImageBitmap | VideoFrame;
export type GrabKind = 'videoframe' | 'bitmap';
/** The ways a browser has to grab the `<video>`'s current frame, by kind. */
export type Grabbers = Partial<Record<GrabKind, () => Promise<GrabbedPicture>>>;

/** The part of a `<video>` the pump uses (a fake in unit tests). */
export interface FrameSource {
  requestVideoFrameCallback(
    callback: (now: number, meta: { captureTime?: number; presentationTime: number }) => void,
  ): number;
  cancelVideoFrameCallback(handle: number): void;
}

interface FramePumpOptions {
  /**
   * The ways to grab the frame on screen (`new VideoFrame(video)`, `createImageBitmap(video)`),
   * those this browser has; the pump times each and keeps the cheapest (`GrabChoice`).
   */
  grabbers: Grabbers;
  /** Hands a frame to the worker, which answers every one with a `frame-ack`; throws if it cannot be sent. */
  send(frame: { picture: GrabbedPicture; captureTime: number; frameId: number }): void;
  /** While true (frozen view) no frame is sent. */
  paused(): boolean;
  /**
   * Frames sent and not yet acknowledged, at most. Two keep the worker busy: the next frame is
   * already there when it finishes one (it keeps only the newest and drops the rest, acknowledged).
   */
  depth?: number;
  /** The clock pacing uses (`performance.now` by default; a fake in tests). */
  now?: () => number;
  /** Timers for the grabs not driven by presented frames (`setTimeout` by default; a fake in tests). */
  timers?: { set(callback: () => void, ms: number): number; clear(handle: number): void };
}

/**
 * Presented-frame callbacks drive the pump while they come steadily: the last under this long ago
 * (ms) and on average at least 15 per second; otherwise the timer does.
 */
const PRESENTED_FRAMES_STALE_MS = 250;
const STEADY_INTERVAL_MS = 1000 / 15;
/** How early the next frame is grabbed before the worker's predicted finish: at least this, ms… */
const MIN_MARGIN_MS = 6;
/** …or this share of the worker's time per frame. */
const MARGIN_SHARE = 0.15;
/** While paused, how often the timer looks again. */
const PAUSED_POLL_MS = 100;

/**
 * The camera's frames for the worker where there is no track processor (Firefox, WebKit without
 * one): grabbed while fewer than `depth` are unacknowledged. Every sent frame is acknowledged by
 * the worker (done, dropped or failed), so nothing can stall the pump: a restarted worker gets a
 * fresh pump.
 *
 * Paced: while the worker explains one frame, the next is grabbed just before that one is
 * predicted to finish (from the worker's measured time per frame), not at once. A frame sent at
 * once would wait a whole worker frame before its turn, doubling the latency; sent just in time it
 * is as fresh as a track processor's newest frame, and the worker still never waits. Where the
 * video's presented-frame callbacks come steadily (Firefox) the grab is at the last presented
 * frame before that moment; where they come late or never (WebKitGTK composites at ~1 frame/s
 * under a virtual display; without compositing it never calls them) a timer grabs at that moment.
 */
export class FramePump {
  private readonly unacknowledged = new Set<number>();
  private grabInProgress = false;
  private nextId = 1;
  private handle = 0;
  private stopped = false;
  private readonly depth: number;
  private readonly now: () => number;
  private readonly sentAt = new Map<number, number>();
  /** How each unacknowledged frame was grabbed, and how long that took. */
  private readonly grabbedAs = new Map<number, { kind: GrabKind; grabMs: number }>();
  private readonly choice: GrabChoice<GrabKind>;
  /** Moving averages: the worker's time per explained frame, the video's frame interval, a grab's time. */
  private serviceMs: number | null = null;
  private videoIntervalMs = 1000 / 30;
  private readonly grabMs: Partial<Record<GrabKind, number>> = {};
  private lastAckAt = 0;
  private lastPresentedAt: number | null = null;
  private readonly timers: NonNullable<FramePumpOptions['timers']>;
  private timer: number | null = null;

  constructor(
    private readonly video: FrameSource,
    private readonly options: FramePumpOptions,
  ) {
    this.depth = options.depth ?? 2;
    this.choice = new GrabChoice(Object.keys(options.grabbers) as GrabKind[]);
    this.now = options.now ?? (() => performance.now());
    this.timers = options.timers ?? {
      set: (callback, ms) => window.setTimeout(callback, ms),
      clear: (handle) => window.clearTimeout(handle),
    };
    this.handle = video.requestVideoFrameCallback(this.onFrame);
    this.schedule();
  }

  /** How frames are grabbed here, and what each way cost (measured on the first frames). */
  get grabbing(): GrabChoiceSummary<GrabKind> {
    return this.choice.summary();
  }

  /** Frames sent and not acknowledged yet. */
  get inFlight(): number {
    return this.unacknowledged.size;
  }

  acknowledge(ack: Pick<FrameAckMessage, 'frameId'> & { outcome?: FrameAckMessage['outcome']; readMs?: number }): void {
    const sent = this.sentAt.get(ack.frameId);
    if (sent !== undefined) {
      const now = this.now();
      if (ack.outcome === 'done') {
        // The worker started this frame when it arrived or when it finished the one before, whichever was later.
        const service = now - Math.max(sent, this.lastAckAt);
        this.serviceMs = this.serviceMs === null ? service : average(this.serviceMs, service);
        const grabbed = this.grabbedAs.get(ack.frameId);
        if (grabbed) this.choice.measured(grabbed.kind, grabbed.grabMs + (ack.readMs ?? 0));
      }
      this.lastAckAt = now;
      this.sentAt.delete(ack.frameId);
      this.grabbedAs.delete(ack.frameId);
    }
    this.unacknowledged.delete(ack.frameId);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.video.cancelVideoFrameCallback(this.handle);
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
  }

  /** Whether presented-frame callbacks drive the grabs (they come steadily), rather than the timer. */
  private presentedFramesDrive(now: number): boolean {
    return (
      this.lastPresentedAt !== null &&
      now - this.lastPresentedAt < PRESENTED_FRAMES_STALE_MS &&
      this.videoIntervalMs < STEADY_INTERVAL_MS
    );
  }

  /**
   * Milliseconds until the next frame should be grabbed: the worker's predicted finish, less the
   * grab's own time and a margin for the message's way there and a late timer (a frame a few ms
   * older beats a worker left idle).
   */
  private untilNeeded(now: number, kind: GrabKind): number {
    if (this.unacknowledged.size === 0 || this.serviceMs === null) return 0;
    const started = Math.max(Math.min(...this.sentAt.values()), this.lastAckAt);
    const margin = Math.max(MIN_MARGIN_MS, this.serviceMs * MARGIN_SHARE);
    return started + this.serviceMs - now - (this.grabMs[kind] ?? 0) - margin;
  }

  /** Sets the timer for the next grab the presented frames may not bring (re-set on every ack and grab). */
  private schedule(): void {
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
    if (this.stopped || this.grabInProgress || this.unacknowledged.size >= this.depth) return;
    const now = this.now();
    const delay = this.options.paused() ? PAUSED_POLL_MS : Math.max(0, this.untilNeeded(now, this.choice.next()));
    this.timer = this.timers.set(this.onTimer, delay);
  }

  private onTimer = (): void => {
    this.timer = null;
    if (this.stopped) return;
    const now = this.now();
    const kind = this.choice.next();
    if (this.grabInProgress || this.unacknowledged.size >= this.depth) return;
    // Paused, or the presented frames will bring it: look again later (a presented frame's callback
    // that stops coming is noticed here). Woken early: wait the rest.
    const wait = this.options.paused()
      ? PAUSED_POLL_MS
      : this.presentedFramesDrive(now)
        ? PRESENTED_FRAMES_STALE_MS
        : this.untilNeeded(now, kind);
    if (wait > 1) {
      this.timer = this.timers.set(this.onTimer, wait);
      return;
    }
    // No presented-frame time: the frame on screen now, captured (as far as the page knows) now.
    this.grab(kind, performance.timeOrigin + now, now);
  };

  private onFrame = (_now: number, meta: { captureTime?: number; presentationTime: number }): void => {
    if (this.stopped) return;
    this.handle = this.video.requestVideoFrameCallback(this.onFrame);
    const now = this.now();
    if (this.lastPresentedAt !== null)
      this.videoIntervalMs = average(this.videoIntervalMs, Math.min(now - this.lastPresentedAt, 250));
    this.lastPresentedAt = now;
    if (this.grabInProgress || this.options.paused() || this.unacknowledged.size >= this.depth) return;
    const kind = this.choice.next();
    // Another video frame comes before the worker is done: grab that one, fresher.
    if (this.untilNeeded(now, kind) > this.videoIntervalMs) return;
    this.grab(kind, performance.timeOrigin + (meta.captureTime ?? meta.presentationTime), now);
  };

  private grab(kind: GrabKind, captureTime: number, grabStart: number): void {
    this.grabInProgress = true;
    // A grabber that throws at once (`new VideoFrame(video)` with no frame) fails like one that rejects.
    const grabbing = Promise.resolve().then(() => this.options.grabbers[kind]!());
    grabbing.then(
      (picture) => {
        this.grabInProgress = false;
        const grabMs = this.now() - grabStart;
        const mean = this.grabMs[kind];
        this.grabMs[kind] = mean === undefined ? grabMs : average(mean, grabMs);
        if (this.stopped) {
          picture.close();
          return;
        }
        const frameId = this.nextId++;
        try {
          this.options.send({ picture, captureTime, frameId });
        } catch {
          // Not transferable here (a VideoFrame in an older browser): closed, and this way counts as failed.
          picture.close();
          this.choice.failed(kind);
          this.schedule();
          return;
        }
        this.unacknowledged.add(frameId);
        this.sentAt.set(frameId, this.now());
        this.grabbedAs.set(frameId, { kind, grabMs });
        this.schedule();
      },
      () => {
        // The video had no frame to give (between sources), or this way does not work here: the
        // next presented frame or the timer tries again (a way that keeps failing is given up).
        this.grabInProgress = false;
        this.choice.failed(kind);
        if (this.stopped) return;
        if (this.timer !== null) this.timers.clear(this.timer);
        this.timer = this.timers.set(this.onTimer, PAUSED_POLL_MS);
      },
    );
  }
}

/** An exponential moving average's next value (a fifth of the way to the new sample). */
function average(mean: number, sample: number): number {
  return mean + (sample - mean) / 5;
}
