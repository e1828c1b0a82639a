/**
 * Holds only the newest camera frame. A frame that is replaced before the worker gets to it is
 * closed at once, so no queue builds up and the camera never stalls waiting for its buffers.
 */
export class LatestFrame<F extends { close(): void }> {
  private frame: { value: F; captureTime: number } | null = null;
  private waiting: (() => void) | null = null;
  /** Frames closed unread since the last `take`. */
  skipped = 0;

  put(value: F, captureTime: number): void {
    if (this.frame) {
      this.frame.value.close();
      this.skipped++;
    }
    this.frame = { value, captureTime };
    this.waiting?.();
    this.waiting = null;
  }

  take(): { value: F; captureTime: number; skipped: number } | null {
    const f = this.frame;
    if (!f) return null;
    this.frame = null;
    const skipped = this.skipped;
    this.skipped = 0;
    return { ...f, skipped };
  }

  /** Resolves when a frame is there (or `wake` is called). */
  next(): Promise<void> {
    if (this.frame) return Promise.resolve();
    return new Promise((resolve) => { this.waiting = resolve; });
  }

  wake(): void {
    this.waiting?.();
    this.waiting = null;
  }

  get holding(): number {
    return this.frame ? 1 : 0;
  }

  clear(): void {
    this.frame?.value.close();
    this.frame = null;
  }
}

/**
 * Maps VideoFrame timestamps (µs on the browser's monotonic capture clock) onto the wall clock
 * shared with the page. Both clocks tick together; their offset is the smallest arrival delay
 * seen, since frames read while the worker waits arrive within a fraction of a millisecond.
 */
export class CaptureClock {
  private offset = Infinity;

  captureTime(timestampMicros: number, arrivedAt: number): number {
    this.offset = Math.min(this.offset, arrivedAt - timestampMicros / 1000);
    return timestampMicros / 1000 + this.offset;
  }

  reset(): void {
    this.offset = Infinity;
  }
}
