import { msg, str } from '@lit/localize';
import { WhyCamError } from '../explain/errors.js';

export type Resolution = '480p' | '720p' | '1080p';
export const RESOLUTIONS: Readonly<Record<Resolution, { width: number; height: number }>> = {
  '480p': { width: 640, height: 480 },
  '720p': { width: 1280, height: 720 },
  '1080p': { width: 1920, height: 1080 },
};

interface CameraChoice {
  /** A device id from `listCameras`, or a facing mode for phones. */
  device: { deviceId: string } | { facingMode: 'user' | 'environment' } | null;
  resolution: Resolution;
}

export interface CameraInfo {
  deviceId: string;
  label: string;
}

/** Why the camera could not be opened, as a message for a person. */
function cameraError(e: unknown): WhyCamError {
  const name = (e as DOMException)?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return new WhyCamError(
      'bad-option',
      msg('Camera access was refused.'),
      msg("Allow the camera in the browser's address bar, or open a photo instead."),
    );
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    return new WhyCamError(
      'bad-option',
      msg('No camera was found.'),
      msg('Plug in a camera, or open a photo instead.'),
    );
  }
  if (name === 'NotReadableError' || name === 'AbortError') {
    return new WhyCamError(
      'bad-option',
      msg('The camera is in use by another program or could not start.'),
      msg('Close the other program, then choose the camera again — or open a photo.'),
    );
  }
  if (!navigator.mediaDevices?.getUserMedia) {
    return new WhyCamError(
      'bad-option',
      msg('This browser gives no camera access here.'),
      msg('Open WhyCam over https or from localhost, or open a photo instead.'),
    );
  }
  return new WhyCamError(
    'bad-option',
    msg(str`The camera could not start (${(e as Error)?.message ?? String(e)}).`),
    msg('Open a photo instead.'),
  );
}

export async function openCamera(choice: CameraChoice): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) throw cameraError(undefined);
  const size = RESOLUTIONS[choice.resolution];
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: {
        ...(choice.device ?? {}),
        width: { ideal: size.width },
        height: { ideal: size.height },
        frameRate: { ideal: 30 },
      },
    });
  } catch (e) {
    throw cameraError(e);
  }
}

export async function listCameras(): Promise<CameraInfo[]> {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices
    .filter((d) => d.kind === 'videoinput')
    .map((d, i) => ({ deviceId: d.deviceId, label: d.label || msg(str`Camera ${i + 1}`) }));
}

export function stopCamera(stream: MediaStream | null): void {
  stream?.getTracks().forEach((t) => t.stop());
}

interface TrackProcessor {
  readonly readable: ReadableStream<VideoFrame>;
}
type TrackProcessorConstructor = new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => TrackProcessor;

/**
 * The camera's frames for the worker, without copies through the main thread: a
 * MediaStreamTrackProcessor's readable (Chromium: the processor exists only on the main thread,
 * so its stream is transferred), or null where there is none (then frames go one by one).
 */
export function trackReadable(track: MediaStreamTrack): ReadableStream<VideoFrame> | null {
  const Processor = (globalThis as { MediaStreamTrackProcessor?: TrackProcessorConstructor }).MediaStreamTrackProcessor;
  if (!Processor) return null;
  return new Processor({ track, maxBufferSize: 1 }).readable;
}
