import type { FrameAckMessage } from '../protocol.js';

/** The part of a `<video>` the pump uses (a fake in unit tests). */
export interface FrameSource {
  requestVideoFrameCallback(
    callback: (now: number, meta: { captureTime?: number; presentationTime: number }) => void,
  ): number;
  cancelVideoFrameCallback(handle: number): void;
}

export interface FramePumpOptions {
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
}

/**
 * The camera's frames for the worker where there is no track processor (Firefox, Safari): one
 * grabbed per presented video frame while fewer than `depth` are unacknowledged. Every sent frame
 * is acknowledged by the worker (done, dropped or failed), so nothing can stall the pump: a
 * restarted worker gets a fresh pump.
 */
export class FramePump {
  private readonly unacknowledged = new Set<number>();
  private grabbing = false;
  private nextId = 1;
  private handle = 0;
  private stopped = false;
  private readonly depth: number;

  constructor(
    private readonly video: FrameSource,
    private readonly options: FramePumpOptions,
  ) {
    this.depth = options.depth ?? 2;
    this.handle = video.requestVideoFrameCallback(this.onFrame);
  }

  /** Frames sent and not acknowledged yet. */
  get inFlight(): number {
    return this.unacknowledged.size;
  }

  acknowledge(ack: Pick<FrameAckMessage, 'frameId'>): void {
    this.unacknowledged.delete(ack.frameId);
  }

  stop(): void {
    this.stopped = true;
    this.video.cancelVideoFrameCallback(this.handle);
  }

  private onFrame = (_now: number, meta: { captureTime?: number; presentationTime: number }): void => {
    if (this.stopped) return;
    this.handle = this.video.requestVideoFrameCallback(this.onFrame);
    if (this.grabbing || this.options.paused() || this.unacknowledged.size >= this.depth) return;
    const captureTime = performance.timeOrigin + (meta.captureTime ?? meta.presentationTime);
    this.grabbing = true;
    this.options.grab().then(
      (bitmap) => {
        this.grabbing = false;
        if (this.stopped) {
          bitmap.close();
          return;
        }
        const frameId = this.nextId++;
        this.unacknowledged.add(frameId);
        this.options.send({ bitmap, captureTime, frameId });
      },
      () => {
        // The video had no frame to give (it is between sources): the next presented frame tries again.
        this.grabbing = false;
      },
    );
  };
}
