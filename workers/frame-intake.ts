import { type CameraTrack, type FrameDropReason, type FrameMessage, wallClock } from '../src/protocol.js';
import { CaptureClock, LatestFrame } from './latest-frame.js';
import type { CameraFrame, FrameOutcome, Post } from './service-types.js';

type TrackProcessorConstructor = new (init: { track: CameraTrack; maxBufferSize?: number }) => {
  readonly readable: ReadableStream<VideoFrame>;
};

/** A camera frame waiting for the processing loop. */
interface CameraInput {
  picture: CameraFrame;
  captureTime: number;
  streamId: number;
  /** The page's id for a frame it sent; null for frames read from a track's stream, which are not acknowledged. */
  frameId: number | null;
}

/**
 * Camera frames coming in, from a track's stream or sent one by one by the page: holds the newest
 * for the processing loop and closes every other. Every frame the page sends is answered with
 * exactly one `frame-ack`, and every frame is closed exactly once.
 */
export class FrameIntake {
  /** The newest camera frame not yet taken by the processing loop. */
  private readonly pending = new LatestFrame<CameraInput>((superseded) =>
    this.release(superseded, { outcome: 'dropped', reason: 'superseded' }),
  );
  private readonly clock = new CaptureClock();
  private reader: ReadableStreamDefaultReader<VideoFrame> | null = null;
  /** The page's camera track transferred here (a clone of the one it shows), stopped with its stream. */
  private track: CameraTrack | null = null;
  /** The camera session whose frames are explained. */
  streamId = 0;
  private opened = 0;
  private closed = 0;

  /** `refusal` says why a frame of this stream cannot be explained now, or null if it can. */
  constructor(
    private readonly post: Post,
    private readonly refusal: (streamId: number) => FrameDropReason | null,
  ) {}

  /** Camera frames the worker holds open now. */
  get openFrames(): number {
    return this.opened - this.closed;
  }

  /** A frame the page sent (no track processor): queued if it can be explained now, else acknowledged as dropped. */
  acceptSent(message: FrameMessage): void {
    this.opened++;
    if (message.streamId > this.streamId) this.streamId = message.streamId;
    this.offer({
      picture: message.picture,
      captureTime: message.captureTime,
      streamId: message.streamId,
      frameId: message.frameId,
    });
  }

  /**
   * Reads a track's frames for as long as the stream lives (or until another replaces it); `track`,
   * when the worker made the stream itself, is stopped with it.
   */
  async readStream(readable: ReadableStream<VideoFrame>, streamId: number, track?: CameraTrack): Promise<void> {
    await this.stopStream();
    const reader = readable.getReader();
    this.reader = reader;
    this.track = track ?? null;
    this.streamId = streamId;
    this.clock.reset();
    for (;;) {
      let next: ReadableStreamReadResult<VideoFrame>;
      try {
        next = await reader.read();
      } catch {
        break; // the track ended or the stream was cancelled
      }
      if (next.done) {
        if (this.reader === reader) this.post({ type: 'stream-ended', streamId });
        break;
      }
      this.opened++;
      const frame = next.value;
      const input: CameraInput = {
        picture: frame,
        captureTime: this.clock.captureTime(frame.timestamp, wallClock()),
        streamId,
        frameId: null,
      };
      if (this.reader !== reader) {
        this.release(input, { outcome: 'dropped', reason: 'not-current' });
        break;
      }
      this.offer(input);
    }
    if (this.reader === reader) {
      this.reader = null;
      this.track?.stop();
      this.track = null;
    }
  }

  /**
   * Reads a transferred camera track with this worker's own track processor (Safari 18+ has one in
   * workers only); where there is none, stops the track and tells the page, which then sends frames.
   */
  async readTrack(track: CameraTrack, streamId: number): Promise<void> {
    // Through unknown: where a lib declares the DOM's processor (it takes a full MediaStreamTrack), the shapes differ.
    const Processor = (globalThis as unknown as { MediaStreamTrackProcessor?: TrackProcessorConstructor })
      .MediaStreamTrackProcessor;
    let readable: ReadableStream<VideoFrame> | null = null;
    try {
      readable = Processor ? new Processor({ track, maxBufferSize: 1 }).readable : null;
    } catch {
      // A processor that refuses this track is as good as none.
    }
    if (!readable) {
      track.stop();
      this.post({ type: 'track-refused', streamId });
      return;
    }
    await this.readStream(readable, streamId, track);
  }

  async stopStream(): Promise<void> {
    const reader = this.reader;
    this.reader = null;
    this.track?.stop();
    this.track = null;
    this.drop('not-current');
    if (reader) await reader.cancel().catch(() => undefined);
  }

  /**
   * Resolves when a frame is waiting or `wake` was called. While a track's stream is read, the
   * frames that queued in it during the last explanation are read first (one task later: each
   * queued read resolves as a microtask), so that the frame taken is the newest, not the oldest
   * queued: WebKit's track processor keeps a queue whatever `maxBufferSize` says, and the worker
   * that explains is the one thread that reads it.
   */
  async next(): Promise<void> {
    await this.pending.next();
    if (this.reader) await nextTask();
  }

  /** Lets the processing loop look again (new settings, a new picture, a model) without a new frame. */
  wake(): void {
    this.pending.wake();
  }

  /** The waiting frame, if any, with the frames superseded before it; the caller releases it. */
  take(): { frame: CameraInput; skipped: number } | null {
    return this.pending.take();
  }

  /** Closes the waiting camera frame, if any, unexplained. */
  drop(reason: FrameDropReason): void {
    const stale = this.pending.take();
    if (stale) this.release(stale.frame, { outcome: 'dropped', reason });
  }

  /** Closes a camera frame and, for a frame the page sent, tells the page what became of it. */
  release(input: CameraInput, outcome: FrameOutcome): void {
    input.picture.close();
    this.closed++;
    if (input.frameId !== null)
      this.post({ type: 'frame-ack', frameId: input.frameId, streamId: input.streamId, ...outcome });
  }

  private offer(input: CameraInput): void {
    const refusal = this.refusal(input.streamId);
    if (refusal) this.release(input, { outcome: 'dropped', reason: refusal });
    else this.pending.put(input);
  }
}

/** Resolves after the tasks queued now (a message to ourselves: faster than a timer). One channel for all calls. */
let taskChannel: MessageChannel | null = null;
const afterTask: (() => void)[] = [];
function nextTask(): Promise<void> {
  if (!taskChannel) {
    taskChannel = new MessageChannel();
    taskChannel.port1.onmessage = () => afterTask.shift()?.();
  }
  const channel = taskChannel;
  return new Promise((resolve) => {
    afterTask.push(resolve);
    channel.port2.postMessage(null);
  });
}
