import { msg, str } from '@lit/localize';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { WhyCamError } from '../../explain/errors.js';
import type { FrameAckMessage, ResultMessage, ToWorker } from '../../protocol.js';
import { FramePump } from '../frame-pump.js';
import { nextStreamId } from '../stream-ids.js';
import { type ClipInfo, frameAt, type OpenedClip, openClip } from '../video/clip-file.js';
import { grabbersFor } from './camera.js';
import type { StillPictureController } from './still-picture.js';

interface VideoHost {
  send(message: ToWorker, transfer?: Transferable[]): void;
  /** The view's `<video>`, once it shows the clip. */
  video(): Promise<HTMLVideoElement | undefined>;
  still: StillPictureController;
  /** The clip replaces the camera or photo (called once it is known to play). */
  started(): void;
  /** A new frame stream starts: smoothing and rates start again. */
  restarted(): void;
}

/** Where the clip is: the frame and media time shown, for the HUD line and the automation API. */
export interface VideoPosition {
  name: string;
  frame: number;
  frames: number;
  time: number;
  duration: number;
  paused: boolean;
}

const MEDIA_ERRORS: Record<number, () => string> = {
  1: () => msg('loading was aborted'),
  2: () => msg('a read error'),
  3: () => msg('the picture could not be decoded'),
  4: () => msg('this browser cannot play this format or codec'),
};

/**
 * A video file as the source: it plays in the view's `<video>` and its presented frames go to the
 * worker exactly as the camera's do when grabbed one by one (so every method, layer, class and side
 * by side work alike). Paused (or ended), the frame on screen is held as a still picture, which the
 * worker re-explains whenever a setting changes; seeking while paused holds the new frame.
 */
export class VideoSourceController implements ReactiveController {
  clip: OpenedClip | null = null;
  file: File | null = null;
  url: string | null = null;
  private streamId = 0;
  private pump: FramePump | null = null;
  private element: HTMLVideoElement | null = null;
  /** Media time of each frame sent, by its capture time (what the result echoes). */
  private readonly sentTimes = new Map<number, number>();
  /** Media time of the frame whose result is shown (playing), s. */
  private shownTime = 0;
  private mirror: MediaStream | null = null;
  /** While the whole clip is explained the worker's picture is the clip's frames: the clip stays paused. */
  private locked = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly page: VideoHost,
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.close();
  }

  get info(): ClipInfo | null {
    return this.clip?.info ?? null;
  }

  get currentStreamId(): number {
    return this.streamId;
  }

  /** Whether frames of the clip are playing to the worker (not paused). */
  get playing(): boolean {
    return this.pump !== null;
  }

  /**
   * Opens a clip; throws a message naming the problem when it is not a video this browser plays,
   * leaving the current source as it was.
   */
  async open(file: File): Promise<void> {
    const clip = await openClip(file);
    const url = URL.createObjectURL(file);
    try {
      await checkPlays(url, clip.info.name);
    } catch (e) {
      URL.revokeObjectURL(url);
      clip.input.dispose();
      throw e;
    }
    this.close();
    this.clip = clip;
    this.file = file;
    this.url = url;
    this.page.started();
    this.host.requestUpdate();
    const video = await this.page.video();
    if (!video || this.url !== url) return;
    this.element = video;
    for (const [type, listener] of this.listeners) video.addEventListener(type, listener);
    if (!video.paused) this.onPlay();
  }

  /** Gives the clip up (the camera or a photo replaces it). */
  close(): void {
    this.stopPump();
    for (const [type, listener] of this.listeners) this.element?.removeEventListener(type, listener);
    this.element = null;
    this.mirror = null;
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
    this.clip?.input.dispose();
    this.clip = null;
    this.file = null;
    this.host.requestUpdate();
  }

  /** Keeps the clip paused (and the worker's picture untouched) while the whole clip is explained. */
  lock(on: boolean): void {
    this.locked = on;
  }

  play(): Promise<void> {
    const v = this.element;
    if (!v || this.locked) return Promise.resolve();
    if (v.ended) v.currentTime = 0;
    return v.play();
  }

  pause(): void {
    this.element?.pause();
  }

  /**
   * The clip as a stream, for the second view side by side (so both show the same frame, not two
   * players drifting apart); null where the browser cannot capture a `<video>`.
   */
  mirrorStream(): MediaStream | null {
    const v = this.element as
      (HTMLVideoElement & { captureStream?: () => MediaStream; mozCaptureStream?: () => MediaStream }) | null;
    if (!v) return null;
    this.mirror ??= v.captureStream?.() ?? v.mozCaptureStream?.() ?? null;
    return this.mirror;
  }

  /** Pauses and holds the frame on screen; false when there is none. */
  async holdFrame(): Promise<boolean> {
    const v = this.element;
    if (!v) return false;
    if (!v.paused) {
      v.pause();
      this.stopPump();
    }
    await this.hold();
    return this.page.still.picture !== null;
  }

  /** Shows the frame at a media time (s); paused, that frame is held and explained. */
  seek(time: number): void {
    const v = this.element;
    if (v) v.currentTime = Math.min(Math.max(time, 0), v.duration || time);
  }

  /** The frame and time on screen: that of the result shown while playing, the video's own while paused. */
  position(): VideoPosition | null {
    const info = this.info;
    if (!info || !this.element) return null;
    const time = this.pump ? this.shownTime : this.element.currentTime;
    const { name, frameCount: frames, duration } = info;
    return { name, frame: frameAt(info, time), frames, time, duration, paused: !this.pump };
  }

  /** A result of the clip's frames: notes which frame it explained. */
  isCurrent(r: ResultMessage): boolean {
    if (r.source.kind !== 'camera') return this.page.still.isCurrent(r.source.imageId);
    if (r.source.streamId !== this.streamId || !this.pump) return false;
    const time = r.captureTime === null ? undefined : this.sentTimes.get(r.captureTime);
    if (time !== undefined) {
      this.shownTime = time;
      for (const at of this.sentTimes.keys()) if (at <= r.captureTime!) this.sentTimes.delete(at);
    }
    return true;
  }

  acknowledge(ack: FrameAckMessage): void {
    if (ack.streamId === this.streamId) this.pump?.acknowledge(ack);
  }

  /** A restarted worker lost the clip's frames or the held frame. */
  resend(): void {
    if (this.pump) this.startStream();
    else void this.page.still.resend();
  }

  private readonly listeners: [string, () => void][] = [
    ['play', () => this.onPlay()],
    ['pause', () => this.onPause()],
    ['seeked', () => this.onSeeked()],
    ['timeupdate', () => this.host.requestUpdate()],
  ];

  private onPlay(): void {
    // Autoplay (or a key) starting the clip while it is being explained whole: it stays paused.
    if (this.locked) return this.element?.pause();
    this.page.still.clear();
    this.startStream();
    this.host.requestUpdate();
  }

  private onPause(): void {
    this.stopPump();
    void this.hold();
  }

  private onSeeked(): void {
    if (this.element?.paused) void this.hold();
  }

  /** Holds the frame on screen as the still picture the worker explains (and re-explains). */
  private async hold(): Promise<void> {
    const v = this.element;
    if (!v || !v.paused || this.locked) return;
    // Just opened: the first frame is not decoded yet.
    if (v.readyState < 2) await new Promise((resolve) => v.addEventListener('loadeddata', resolve, { once: true }));
    if (v !== this.element || !v.paused || this.locked) return;
    this.page.restarted();
    // A frame grabbed as the clip starts playing again is not held (it would stop the clip).
    await this.page.still.freeze(v, () => v.paused && !this.pump && !this.locked);
    this.host.requestUpdate();
  }

  private startStream(): void {
    const v = this.element;
    this.stopPump();
    if (!v) return;
    this.page.restarted();
    this.page.send({ type: 'camera' });
    const streamId = nextStreamId();
    this.streamId = streamId;
    this.shownTime = v.currentTime;
    this.pump = new FramePump(v, {
      grabbers: grabbersFor(v),
      send: ({ picture, captureTime, frameId }) => {
        this.sentTimes.set(captureTime, v.currentTime);
        this.page.send({ type: 'frame', picture, captureTime, streamId, frameId }, [picture]);
      },
      paused: () => v.paused,
    });
  }

  private stopPump(): void {
    this.pump?.stop();
    this.pump = null;
    this.sentTimes.clear();
  }
}

/** Loads the clip in a detached `<video>` first: a file the element cannot play is refused before anything changes. */
function checkPlays(url: string, name: string): Promise<void> {
  const probe = document.createElement('video');
  probe.muted = true;
  probe.preload = 'auto';
  return new Promise<void>((resolve, reject) => {
    probe.addEventListener('loadeddata', () => resolve(), { once: true });
    probe.addEventListener(
      'error',
      () => {
        const why = MEDIA_ERRORS[probe.error?.code ?? 0]?.() ?? (probe.error?.message || msg('an unknown error'));
        reject(new WhyCamError('bad-image', msg(str`${name} does not play here: ${why}.`)));
      },
      { once: true },
    );
    probe.src = url;
  }).finally(() => {
    probe.removeAttribute('src');
    probe.load();
  });
}
