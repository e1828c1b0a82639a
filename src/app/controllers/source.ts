import type { ReactiveControllerHost } from 'lit';
import type { Prediction } from '../../explain/methods/types.js';
import type { FrameAckMessage, ResultMessage, ToWorker } from '../../protocol.js';
import type { Resolution } from '../camera.js';
import type { LiveView } from '../live-view.js';
import { NOTICES } from '../notice-texts.js';
import { CameraController } from './camera.js';
import type { NoticesController } from './notices.js';
import { StillPictureController } from './still-picture.js';
import { VideoSourceController } from './video-source.js';

/** A photo's own first result, as `openPicture` (and `window.whycam.openImage`) resolve with it. */
export interface PictureResult {
  imageId: number;
  /** The request it answers (see `NewRequest` in the protocol), and the model that explained it. */
  request: number;
  model: string;
  method: string;
  layer: string;
  target: Prediction;
  predictions: Prediction[];
}

interface SourceHost {
  send(message: ToWorker, transfer?: Transferable[]): void;
  /** The (first) live view, once rendered. */
  view(): LiveView | null;
  resolution(): Resolution;
  /** A new source (or frame stream) starts: smoothing and rates start again. */
  restarted(): void;
}

/**
 * What is being explained: the camera, an opened photo, a video file, or a frozen camera frame. Switches
 * between them, tells which results are still current, and says what went wrong with each.
 */
export class SourceController {
  mode: 'camera' | 'image' | 'video' | 'none' = 'none';
  readonly camera: CameraController;
  readonly still: StillPictureController;
  readonly video: VideoSourceController;
  /** `openPicture` calls waiting for their picture's first result. */
  private awaited: { picture: ImageBitmap; settle: (r: PictureResult | null) => void }[] = [];

  constructor(
    private readonly host: ReactiveControllerHost & { readonly updateComplete: Promise<boolean> },
    private readonly page: SourceHost,
    private readonly notices: NoticesController,
  ) {
    this.still = new StillPictureController(host, (m, transfer) => {
      page.restarted();
      page.send(m, transfer);
    });
    this.camera = new CameraController(host, {
      send: (m, transfer) => page.send(m, transfer),
      video: () => page.view()?.videoElement,
      resolution: () => page.resolution(),
      frozen: () => this.still.frozen,
      started: () => {
        this.video.close();
        this.still.clear();
        this.setMode('camera');
        page.restarted();
        notices.drop('camera');
      },
      failed: (e, quiet) => {
        if (this.mode !== 'video') this.setMode(this.still.picture ? 'image' : 'none');
        if (!quiet) notices.show(NOTICES.cameraFailed(e));
      },
      lost: () => {
        if (this.still.frozen) this.still.clear();
        this.setMode(this.still.picture ? 'image' : 'none');
        notices.show(NOTICES.cameraLost());
      },
      wantsCamera: () => this.mode !== 'image' && this.mode !== 'video' && notices.has('camera'),
    });
    this.video = new VideoSourceController(host, {
      send: (m, transfer) => page.send(m, transfer),
      video: async () => {
        // The view's `<video>` once the page and then the view have rendered the clip.
        await host.updateComplete;
        await page.view()?.updateComplete;
        return page.view()?.videoElement;
      },
      still: this.still,
      started: () => {
        this.camera.close();
        this.still.clear();
        this.setMode('video');
        notices.drop('video');
      },
      restarted: () => page.restarted(),
    });
  }

  /** The camera's stream for the view, unless a clip plays there instead. */
  get shownStream(): MediaStream | null {
    return this.mode === 'video' ? null : this.camera.stream;
  }

  /** The still picture the view draws (a clip's held frame stays in its own paused `<video>`). */
  get shownPicture(): ImageBitmap | null {
    return this.mode === 'video' ? null : this.still.picture;
  }

  /** Opens a video file as the source; false (and a message naming the problem) when it cannot be played. */
  async openVideo(file: File): Promise<boolean> {
    try {
      await this.video.open(file);
      return true;
    } catch (e) {
      this.notices.show(NOTICES.videoFailed(e));
      return false;
    }
  }

  /** Opens a dropped or chosen file: a video as the source, anything else as a photo. */
  openFile(file: File): Promise<unknown> {
    const video = file.type.startsWith('video/') || /\.(mp4|m4v|mov|webm|mkv|mjpe?g|avi)$/i.test(file.name);
    return video ? this.openVideo(file) : this.openPicture(file);
  }

  /** The file input's choice (its value is reset, so that the same file can be chosen again). */
  onFileChosen = (e: Event): void => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (file) void this.openFile(file);
  };

  acknowledge(ack: FrameAckMessage): void {
    this.camera.acknowledge(ack);
    this.video.acknowledge(ack);
  }

  get frozen(): boolean {
    return this.still.frozen;
  }

  /**
   * Whether a result belongs to what is on screen now (not to an earlier photo or camera session).
   * The first result of an opened photo also settles the `openPicture` that opened it (once the page
   * has taken it: the promise's continuation runs after the caller's synchronous handling).
   */
  isCurrent(r: ResultMessage): boolean {
    if (this.mode === 'video') return this.video.isCurrent(r);
    const current =
      r.source.kind === 'camera'
        ? this.mode === 'camera' && !this.still.frozen && r.source.streamId === this.camera.currentStreamId
        : this.still.isCurrent(r.source.imageId);
    if (current && r.source.kind === 'image') this.settle(r);
    return current;
  }

  async useCamera(choice?: string): Promise<void> {
    await this.camera.open(choice);
  }

  /**
   * Opens a photo in still-image mode; resolves with the photo's own first result (never an earlier
   * picture's or the camera's), or null when the file is not a usable picture or another picture or
   * the camera replaced it first.
   */
  async openPicture(blob: Blob): Promise<PictureResult | null> {
    try {
      await this.still.open(blob);
    } catch (e) {
      this.notices.show(NOTICES.pictureFailed(e));
      return null;
    }
    const picture = this.still.picture!;
    this.settle(null); // an earlier photo's wait ends: it was replaced
    const result = new Promise<PictureResult | null>((settle) => this.awaited.push({ picture, settle }));
    this.camera.stop();
    this.video.close();
    this.setMode('image');
    this.notices.drop('image');
    return result;
  }

  async freeze(on: boolean): Promise<void> {
    if (this.mode === 'video') return on ? this.video.pause() : this.video.play();
    if (on === this.still.frozen || (on && this.mode !== 'camera')) return;
    if (on) await this.still.freeze(this.page.view()?.videoElement);
    else this.still.unfreeze(this.page.view()?.videoElement);
  }

  /**
   * Makes sure a still picture is explained (for the slow methods): `still` (a photo or a frozen
   * frame), `frozen` (the live camera frame was frozen just now) or `none`.
   */
  async holdPicture(): Promise<'still' | 'frozen' | 'none'> {
    if (this.mode === 'video') return (await this.video.holdFrame()) ? 'still' : 'none';
    if (this.mode !== 'camera' || this.still.frozen) return this.still.picture ? 'still' : 'none';
    await this.freeze(true);
    return this.still.frozen ? 'frozen' : 'none';
  }

  /** Whether the still picture of this id is the one on screen. */
  showsPicture(imageId: number): boolean {
    return this.still.picture !== null && this.still.isCurrent(imageId);
  }

  /** A restarted worker lost what it was given: the camera's frames, or the picture. */
  resend(): void {
    if (this.mode === 'video') this.video.resend();
    else if (this.mode === 'camera' && !this.still.frozen) this.camera.attach();
    else void this.still.resend();
  }

  private setMode(mode: SourceController['mode']): void {
    this.mode = mode;
    if (mode !== 'image') this.settle(null);
    this.host.requestUpdate();
  }

  /**
   * Settles the waits: those for the picture on screen with its result `r` (a re-sent copy's too,
   * after a worker restart); those for a picture no longer shown, or every one when `r` is null, with null.
   */
  private settle(r: ResultMessage | null): void {
    if (this.awaited.length === 0) return;
    const waits = this.awaited;
    this.awaited = [];
    for (const w of waits) {
      const shown = w.picture === this.still.picture;
      if (r && shown && r.source.kind === 'image') w.settle(imageResult(r, r.source.imageId));
      else if (r && shown) this.awaited.push(w);
      else w.settle(null);
    }
  }
}

/** What `openImage` resolves with: the photo's own result. */
function imageResult(r: ResultMessage, imageId: number): PictureResult {
  return {
    imageId,
    request: r.request,
    model: r.model,
    method: r.method,
    layer: r.layer,
    target: r.target,
    predictions: r.predictions,
  };
}
