import type { FrameAckMessage } from '../protocol.js';

/** The part of a `<video>` the pump uses (a fake in unit tests). */
export interface FrameSource {
  requestVideoFrameCallback(
    callback: (now: number, meta: { captureTime?: number; presentationTime: number }) => void,
  ): number;
  cancelVideoFrameCallback(handle: number): void;
}

interface FramePumpOptions {
  /** Grabs the frame on screen (createImageBitmap of the video). */
  grab(): Promise<ImageBitmap>;
  /** Hands a frame to the worker, which answers every one with a `frame-ack`. */
  send(frame: { bitmap: ImageBitmap; captureTime: number; frameId: number }): void;
  /** While true (frozen view) no frame is sent. */
  paused(): boolean;
  /**
   * Frames sent and not yet acknowledged, at most. Two keep the worker busy: the next frame is
   * already there when it finishes one (it keeps only the newest and drops the rest, acknowledged).
   */
  depth?: number;
  /** The clock pacing uses (`performance.now` by default; a fake in tests). */
  now?: () => number;
}

/**
 * The camera's frames for the worker where there is no track processor (Firefox, Safari): one
 * grabbed per presented video frame while fewer than `depth` are unacknowledged. Every sent frame
 * is acknowledged by the worker (done, dropped or failed), so nothing can stall the pump: a
 * restarted worker gets a fresh pump.
 *
 * Paced: while the worker explains one frame, the next is grabbed at the last presented video
 * frame before that one is predicted to finish (from the worker's measured time per frame), not
 * at once. A frame sent at once would wait a whole worker frame before its turn, doubling the
 * latency; sent just in time it is as fresh as a track processor's newest frame, and the worker
 * still never waits.
 */
export class FramePump {
  private readonly unacknowledged = new Set<number>();
  private grabbing = false;
  private nextId = 1;
  private handle = 0;
  private stopped = false;
  private readonly depth: number;
  private readonly now: () => number;
  private readonly sentAt = new Map<number, number>();
  /** Moving averages: the worker's time per explained frame, the video's frame interval, a grab's time. */
  private serviceMs: number | null = null;
  private videoIntervalMs = 1000 / 30;
  private grabMs = 0;
  private lastAckAt = 0;
  private lastPresentedAt: number | null = null;

  constructor(
    private readonly video: FrameSource,
    private readonly options: FramePumpOptions,
  ) {
    this.depth = options.depth ?? 2;
    this.now = options.now ?? (() => performance.now());
    this.handle = video.requestVideoFrameCallback(this.onFrame);
  }

  /** Frames sent and not acknowledged yet. */
  get inFlight(): number {
    return this.unacknowledged.size;
  }

  acknowledge(ack: Pick<FrameAckMessage, 'frameId'> & { outcome?: FrameAckMessage['outcome'] }): void {
    const sent = this.sentAt.get(ack.frameId);
    if (sent !== undefined) {
      const now = this.now();
      if (ack.outcome === 'done') {
        // The worker started this frame when it arrived or when it finished the one before, whichever was later.
        const service = now - Math.max(sent, this.lastAckAt);
        this.serviceMs = this.serviceMs === null ? service : average(this.serviceMs, service);
      }
      this.lastAckAt = now;
      this.sentAt.delete(ack.frameId);
    }
    this.unacknowledged.delete(ack.frameId);
  }

  stop(): void {
    this.stopped = true;
    this.video.cancelVideoFrameCallback(this.handle);
  }

  private onFrame = (_now: number, meta: { captureTime?: number; presentationTime: number }): void => {
    if (this.stopped) return;
    this.handle = this.video.requestVideoFrameCallback(this.onFrame);
    const now = this.now();
    if (this.lastPresentedAt !== null)
      this.videoIntervalMs = average(this.videoIntervalMs, Math.min(now - this.lastPresentedAt, 250));
    this.lastPresentedAt = now;
    if (this.grabbing || this.options.paused() || this.unacknowledged.size >= this.depth) return;
    if (this.unacknowledged.size > 0 && this.serviceMs !== null) {
      const started = Math.max(Math.min(...this.sentAt.values()), this.lastAckAt);
      const remaining = started + this.serviceMs - now;
      // Another video frame comes before the worker is done: grab that one, fresher.
      if (remaining > this.videoIntervalMs + this.grabMs) return;
    }
    const captureTime = performance.timeOrigin + (meta.captureTime ?? meta.presentationTime);
    this.grabbing = true;
    const grabStart = now;
    this.options.grab().then(
      (bitmap) => {
        this.grabbing = false;
        this.grabMs = average(this.grabMs, this.now() - grabStart);
        if (this.stopped) {
          bitmap.close();
          return;
        }
        const frameId = this.nextId++;
        this.unacknowledged.add(frameId);
        this.sentAt.set(frameId, this.now());
        this.options.send({ bitmap, captureTime, frameId });
      },
      () => {
        // The video had no frame to give (it is between sources): the next presented frame tries again.
        this.grabbing = false;
      },
    );
  };
}

/** An exponential moving average's next value (a fifth of the way to the new sample). */
function average(mean: number, sample: number): number {
  return mean + (sample - mean) / 5;
}
