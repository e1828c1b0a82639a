import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { FrameAckMessage, FrameDropReason, ToWorker } from '../../protocol.js';
import { type CameraInfo, listCameras, openCamera, type Resolution, stopCamera, trackReadable } from '../camera.js';
import { FramePump, type Grabbers, type GrabKind } from '../frame-pump.js';
import { nextStreamId } from '../stream-ids.js';

/** The ways this browser has to grab the `<video>`'s current frame for the worker. */
export function grabbersFor(video: HTMLVideoElement): Grabbers {
  const ways: Grabbers = {};
  if (typeof VideoFrame !== 'undefined') ways.videoframe = async () => new VideoFrame(video);
  ways.bitmap = () => createImageBitmap(video);
  return ways;
}

/** How the camera's frames reach the worker (`status().framePath`, the HUD's backend notes). */
export interface FramePath {
  kind: 'track-processor' | 'worker-track-processor' | GrabKind;
  /** Chosen by timing each way on the first frames (false: the only way, or still timing). */
  measured: boolean;
  /** Per way of grabbing tried: its median cost per frame (grab on the page + read in the worker), ms. */
  costs: Partial<Record<GrabKind, number>>;
}

export interface FrameAckCounts {
  done: number;
  failed: number;
  dropped: Partial<Record<FrameDropReason, number>>;
}

interface CameraHost {
  send(message: ToWorker, transfer?: Transferable[]): void;
  /** The `<video>` showing the stream, once it is rendered. */
  video(): HTMLVideoElement | undefined;
  resolution(): Resolution;
  /** Frames are not sent while the view is frozen. */
  frozen(): boolean;
  /** The camera delivers: the page shows it (called before frames flow). */
  started(stream: MediaStream): void;
  /** Opening the camera failed; `quiet` retries leave the page as it is. */
  failed(error: unknown, quiet: boolean): void;
  /** The track ended (unplugged, taken by another program, stopped by the browser). */
  lost(): void;
  /** Whether a lost camera should still be retried (not while a photo is shown, for instance). */
  wantsCamera(): boolean;
}

/**
 * The camera: opening it, the list of cameras, handing its frames to the worker (the track
 * processor's stream, transferred once, or frame by frame with acknowledgements), and quiet
 * retries after it is lost.
 */
export class CameraController implements ReactiveController {
  stream: MediaStream | null = null;
  cameras: CameraInfo[] = [];
  cameraId = '';
  /** What the worker answered for the frames sent one by one (the path without a track processor). */
  readonly acks: FrameAckCounts = { done: 0, failed: 0, dropped: {} };
  /** When the camera first delivered, ms since the page started. */
  firstStarted: number | null = null;
  /** Identifies the current camera session in results and acknowledgements. */
  private streamId = 0;
  private pump: FramePump | null = null;
  /** How the current session's frames go when no pump runs. */
  private path: 'track-processor' | 'worker-track-processor' | null = null;
  /** Learned once: this worker cannot read a transferred track, so the pump is used from the start. */
  private workerRefusesTracks = false;
  private retryTimer = 0;
  private waitForVideo = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly page: CameraHost,
  ) {
    host.addController(this);
  }

  get currentStreamId(): number {
    return this.streamId;
  }

  hostConnected(): void {
    navigator.mediaDevices?.addEventListener('devicechange', this.onDeviceChange);
  }

  hostDisconnected(): void {
    navigator.mediaDevices?.removeEventListener('devicechange', this.onDeviceChange);
    clearTimeout(this.retryTimer);
    this.stopPump();
    stopCamera(this.stream);
    this.stream = null;
  }

  /** Starts (or restarts) the camera: a device id, `facing:user|environment`, or '' for the default. */
  async open(choice = this.cameraId, quiet = false): Promise<boolean> {
    clearTimeout(this.retryTimer);
    try {
      const device = choice.startsWith('facing:')
        ? { facingMode: choice.slice(7) as 'user' | 'environment' }
        : choice
          ? { deviceId: choice }
          : null;
      const stream = await openCamera({ device, resolution: this.page.resolution() });
      this.firstStarted ??= performance.now();
      stopCamera(this.stream);
      this.stream = stream;
      const track = stream.getVideoTracks()[0]!;
      this.cameraId = track.getSettings().deviceId ?? '';
      track.addEventListener('ended', () => this.onTrackEnded(stream));
      this.page.started(stream);
      this.page.send({ type: 'camera' });
      this.attach();
      this.cameras = await listCameras();
      this.host.requestUpdate();
      return true;
    } catch (e) {
      this.page.failed(e, quiet);
      return false;
    }
  }

  /** Hands the stream's frames to the (current) worker: again after the worker was restarted. */
  attach(): void {
    const track = this.stream?.getVideoTracks()[0];
    if (!track || track.readyState === 'ended') return;
    this.streamId = nextStreamId();
    this.stopPump();
    const readable = trackReadable(track);
    if (readable) {
      this.path = 'track-processor';
      this.page.send({ type: 'stream', readable, streamId: this.streamId }, [readable]);
    } else if (!this.workerRefusesTracks && this.sendTrack(track, this.streamId)) {
      this.path = 'worker-track-processor';
    } else {
      this.startPump(this.streamId);
    }
  }

  /**
   * Hands a clone of the track to the worker, to read with its own track processor (Safari 18+).
   * The clone: a transferred track ends on this side, and the page still shows the camera.
   * False where a track cannot be transferred (postMessage throws).
   */
  private sendTrack(track: MediaStreamTrack, streamId: number): boolean {
    const clone = track.clone();
    try {
      this.page.send({ type: 'track', track: clone, streamId }, [clone as unknown as Transferable]);
      return true;
    } catch {
      clone.stop();
      this.workerRefusesTracks = true;
      return false;
    }
  }

  /** The worker has no track processor: frames go one by one (and the next camera session starts that way). */
  trackRefused(streamId: number): void {
    this.workerRefusesTracks = true;
    if (streamId === this.streamId && this.stream) this.startPump(streamId);
  }

  /**
   * How camera frames reach the worker: a track processor's stream (on the page, or in the worker
   * for a transferred track), or frames grabbed one by one — and then how, and at what cost.
   */
  get framePath(): FramePath | null {
    if (!this.stream) return null;
    if (this.pump) {
      const g = this.pump.grabbing;
      return { kind: g.kind, measured: g.measured, costs: g.costs };
    }
    return this.path === null ? null : { kind: this.path, measured: false, costs: {} };
  }

  acknowledge(ack: FrameAckMessage): void {
    if (ack.outcome === 'dropped') this.acks.dropped[ack.reason] = (this.acks.dropped[ack.reason] ?? 0) + 1;
    else this.acks[ack.outcome]++;
    if (ack.streamId === this.streamId) this.pump?.acknowledge(ack);
  }

  /** The worker says the stream it was reading ended. */
  streamEnded(streamId: number): void {
    if (streamId === this.streamId && this.stream) this.onTrackEnded(this.stream);
  }

  /** Stops the camera for good (a photo replaces it). */
  stop(): void {
    clearTimeout(this.retryTimer);
    this.stopPump();
  }

  /** Turns the camera off (a video file replaces it): the worker stops reading it, the light goes out. */
  close(): void {
    this.stop();
    if (!this.stream) return;
    this.page.send({ type: 'stop-stream' });
    stopCamera(this.stream);
    this.stream = null;
    this.host.requestUpdate();
  }

  private startPump(streamId: number): void {
    this.path = null;
    const video = this.page.video();
    if (!video) {
      this.waitForVideo = requestAnimationFrame(() => this.startPump(streamId));
      return;
    }
    this.pump = new FramePump(video, {
      grabbers: grabbersFor(video),
      send: ({ picture, captureTime, frameId }) =>
        this.page.send({ type: 'frame', picture, captureTime, streamId, frameId }, [picture]),
      paused: () => this.page.frozen(),
    });
  }

  private stopPump(): void {
    cancelAnimationFrame(this.waitForVideo);
    this.pump?.stop();
    this.pump = null;
  }

  private onTrackEnded(stream: MediaStream): void {
    if (stream !== this.stream) return;
    stopCamera(stream);
    this.stream = null;
    this.stopPump();
    this.page.send({ type: 'stop-stream' });
    this.page.lost();
    this.scheduleRetry();
    this.host.requestUpdate();
  }

  /** Tries the camera again every two seconds, quietly, until one answers or the page stops wanting it. */
  private scheduleRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => {
      if (this.stream || !this.page.wantsCamera()) return;
      if (document.hidden) return this.scheduleRetry();
      void this.open(this.cameraId, true).then((ok) => {
        if (!ok) this.scheduleRetry();
      });
    }, 2000);
  }

  private onDeviceChange = (): void => {
    if (!this.stream && this.page.wantsCamera()) void this.open('');
    void listCameras().then((c) => {
      this.cameras = c;
      this.host.requestUpdate();
    });
  };
}
