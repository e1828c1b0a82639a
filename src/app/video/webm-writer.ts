import { msg } from '@lit/localize';

/** Writes what a canvas shows, frame by frame, into a WebM file. */
export interface WebmWriter {
  /** How it encodes: WebCodecs through mediabunny's muxer, or the browser's MediaRecorder. */
  readonly kind: 'webcodecs' | 'mediarecorder';
  /** Adds the canvas's picture now as the frame at `timestamp` (s) lasting `duration` (s). */
  add(timestamp: number, duration: number): Promise<void>;
  /** Whether the encoder is still busy with earlier frames (a live recording skips a frame then). */
  readonly busy: boolean;
  finish(): Promise<Blob>;
  cancel(): Promise<void>;
}

const BITS_PER_PIXEL_SECOND = 0.15;

/**
 * A WebM writer for the canvas: VP8 (or VP9) with WebCodecs, muxed by mediabunny (exact timestamps,
 * a duration in the header), or where the browser has no video encoder, MediaRecorder on the
 * canvas's stream, which records in real time: `add` then waits until the frame's time has come.
 */
export async function createWebmWriter(
  canvas: HTMLCanvasElement | OffscreenCanvas,
  frameRate: number,
  latencyMode: 'quality' | 'realtime' = 'quality',
): Promise<WebmWriter> {
  const bitrate = Math.round(canvas.width * canvas.height * frameRate * BITS_PER_PIXEL_SECOND);
  if (typeof VideoEncoder !== 'undefined') {
    const mb = await import('mediabunny');
    // VP8 first: several times cheaper to encode than VP9, which matters on a 2-core laptop recording live.
    for (const codec of ['vp8', 'vp9'] as const) {
      if (!(await mb.canEncodeVideo(codec, { width: canvas.width, height: canvas.height, bitrate }))) continue;
      const target = new mb.BufferTarget();
      const output = new mb.Output({ format: new mb.WebMOutputFormat(), target });
      const source = new mb.CanvasSource(canvas, { codec, bitrate, latencyMode });
      output.addVideoTrack(source, { frameRate });
      await output.start();
      let pending = 0;
      return {
        kind: 'webcodecs',
        get busy() {
          return pending > 0;
        },
        async add(timestamp, duration) {
          pending++;
          try {
            await source.add(timestamp, duration);
          } finally {
            pending--;
          }
        },
        async finish() {
          source.close();
          await output.finalize();
          return new Blob([target.buffer!], { type: 'video/webm' });
        },
        cancel: () => output.cancel(),
      };
    }
  }
  return mediaRecorderWriter(canvas);
}

function mediaRecorderWriter(canvas: HTMLCanvasElement | OffscreenCanvas): WebmWriter {
  if (typeof MediaRecorder === 'undefined' || !('captureStream' in canvas))
    throw new Error(msg('This browser can neither encode video (WebCodecs) nor record a canvas (MediaRecorder).'));
  const type = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'].find((t) =>
    MediaRecorder.isTypeSupported(t),
  );
  if (!type) throw new Error(msg('This browser cannot record WebM video.'));
  const stream = canvas.captureStream(0);
  const track = stream.getVideoTracks()[0] as MediaStreamTrack & { requestFrame?: () => void };
  const recorder = new MediaRecorder(stream, { mimeType: type, videoBitsPerSecond: 2_500_000 });
  const chunks: Blob[] = [];
  recorder.addEventListener('dataavailable', (e) => chunks.push(e.data));
  const stopped = new Promise<void>((resolve) => recorder.addEventListener('stop', () => resolve()));
  let started = 0;
  return {
    kind: 'mediarecorder',
    busy: false,
    async add(timestamp) {
      if (recorder.state === 'inactive') {
        recorder.start(1000);
        started = performance.now() - timestamp * 1000;
      }
      // MediaRecorder stamps frames with the wall clock: a frame is handed over when its time comes.
      const wait = started + timestamp * 1000 - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      track.requestFrame?.();
    },
    async finish() {
      if (recorder.state !== 'inactive') recorder.stop();
      await stopped;
      stream.getTracks().forEach((t) => t.stop());
      return new Blob(chunks, { type: 'video/webm' });
    },
    async cancel() {
      if (recorder.state !== 'inactive') recorder.stop();
      stream.getTracks().forEach((t) => t.stop());
    },
  };
}

/** Saves a file through the browser's download (on this device; nothing is uploaded). */
export function download(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
