/**
 * What long, batched computations (deletion/insertion, occlusion, LIME, the sanity check) accept
 * so that a worker can report progress and a user can cancel: they check the signal between
 * batches and call `onProgress` after each.
 */
export interface ProgressOptions {
  signal?: AbortSignal;
  /** `done` of `total` units of work (forward-pass inputs, or images) are finished. */
  onProgress?: (done: number, total: number) => void;
}

/** Throws the signal's reason (an `AbortError` DOMException by default) if it has been aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
  }
}
