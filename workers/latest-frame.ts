/**
 * Holds only the newest camera frame. A frame replaced before the worker gets to it is handed to
 * `discard` at once (which closes it), so no queue builds up and the camera never stalls waiting
 * for its buffers.
 */
export class LatestFrame<F> {
  private frame: F | null = null;
  private waiting: (() => void) | null = null;
  /** A `wake` that came while nobody waited: the next `next` returns at once instead of missing it. */
  private woken = false;
  /** Frames superseded since the last `take`. */
  private skipped = 0;

  /** `discard` receives every frame that is replaced unread; it must close it. */
  constructor(private readonly discard: (superseded: F) => void) {}

  put(frame: F): void {
    const superseded = this.frame;
    this.frame = frame;
    if (superseded !== null) {
      this.skipped++;
      this.discard(superseded);
    }
    this.wake();
  }

  /** The held frame, with how many were superseded before it; the caller now owns (and closes) it. */
  take(): { frame: F; skipped: number } | null {
    const frame = this.frame;
    if (frame === null) return null;
    this.frame = null;
    const skipped = this.skipped;
    this.skipped = 0;
    return { frame, skipped };
  }

  /** Resolves when a frame is there or `wake` is called (also a `wake` since the last `next`). */
  next(): Promise<void> {
    if (this.frame !== null || this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Lets the consumer look again (new settings, a new picture) even without a new frame. */
  wake(): void {
    if (this.waiting) {
      this.waiting();
      this.waiting = null;
    } else {
      this.woken = true;
    }
  }
}

/**
 * Maps VideoFrame timestamps (µs on the browser's capture clock) onto the wall clock shared with
 * the page. Both clocks tick together, nearly: their offset is the smallest arrival delay seen,
 * since frames read while the worker waits arrive within a fraction of a millisecond. Taken over
 * the last few seconds only, so that a capture clock that drifts (WebKit's mock camera stamps
 * frames at 30 per second while it delivers 29) cannot make the waits grow without end.
 */
export class CaptureClock {
  private readonly delays: number[] = [];
  private next = 0;

  /** `window`: how many recent frames the offset is taken over. */
  constructor(private readonly window = 90) {}

  captureTime(timestampMicros: number, arrivedAt: number): number {
    const delay = arrivedAt - timestampMicros / 1000;
    if (this.delays.length < this.window) this.delays.push(delay);
    else this.delays[this.next] = delay;
    this.next = (this.next + 1) % this.window;
    let offset = Infinity;
    for (const d of this.delays) if (d < offset) offset = d;
    return timestampMicros / 1000 + offset;
  }

  reset(): void {
    this.delays.length = 0;
    this.next = 0;
  }
}
