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

/**
 * Before the next batch of a cancellable computation: lets the event loop run first (on CPU
 * backends reading a result back never does, so in a worker a cancel message would wait until the
 * end), then throws if the signal has been aborted meanwhile. Without a signal it does nothing.
 */
export async function checkpoint(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return;
  await new Promise<void>((resolve) => {
    if (typeof MessageChannel === 'undefined') {
      setTimeout(resolve, 0);
      return;
    }
    // A message, not a timer: nested timers are clamped to 4 ms, a message task is not.
    const channel = new MessageChannel();
    // The DOM's and Node's MessagePort types differ; both have `onmessage` and `close()`.
    const port1 = channel.port1 as unknown as { onmessage: (() => void) | null; close(): void };
    const port2 = channel.port2 as unknown as { postMessage(message: null): void };
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
  throwIfAborted(signal);
}

/** Throws the signal's reason (an `AbortError` DOMException by default) if it has been aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
  }
}
