import type { ReactiveControllerHost } from 'lit';
import type { ResultMessage, ToWorker } from '../../protocol.js';
import type { Resolution } from '../camera.js';
import { NOTICES } from '../notice-texts.js';
import { CameraController } from './camera.js';
import type { NoticesController } from './notices.js';
import { StillPictureController } from './still-picture.js';

export interface SourceHost {
  send(message: ToWorker, transfer?: Transferable[]): void;
  video(): HTMLVideoElement | undefined;
  resolution(): Resolution;
  /** A new source (or frame stream) starts: smoothing and rates start again. */
  restarted(): void;
}

/**
 * What is being explained: the camera, an opened photo, or a frozen camera frame. Switches
 * between them, tells which results are still current, and says what went wrong with each.
 */
export class SourceController {
  mode: 'camera' | 'image' | 'none' = 'none';
  readonly camera: CameraController;
  readonly still: StillPictureController;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly page: SourceHost,
    private readonly notices: NoticesController,
  ) {
    this.still = new StillPictureController(host, (m, transfer) => {
      page.restarted();
      page.send(m, transfer);
    });
    this.camera = new CameraController(host, {
      send: (m, transfer) => page.send(m, transfer),
      video: () => page.video(),
      resolution: () => page.resolution(),
      frozen: () => this.still.frozen,
      started: () => {
        this.still.clear();
        this.setMode('camera');
        page.restarted();
        notices.drop('camera');
      },
      failed: (e, quiet) => {
        this.setMode(this.still.picture ? 'image' : 'none');
        if (!quiet) notices.show(NOTICES.cameraFailed(e));
      },
      lost: () => {
        if (this.still.frozen) this.still.clear();
        this.setMode(this.still.picture ? 'image' : 'none');
        notices.show(NOTICES.cameraLost());
      },
      wantsCamera: () => this.mode !== 'image' && notices.has('camera'),
    });
  }

  get frozen(): boolean {
    return this.still.frozen;
  }

  /** Whether a result belongs to what is on screen now (not to an earlier photo or camera session). */
  isCurrent(r: ResultMessage): boolean {
    return r.source.kind === 'camera'
      ? this.mode === 'camera' && !this.still.frozen && r.source.streamId === this.camera.currentStreamId
      : this.still.isCurrent(r.source.imageId);
  }

  async useCamera(choice?: string): Promise<void> {
    await this.camera.open(choice);
  }

  async openPicture(blob: Blob): Promise<void> {
    try {
      await this.still.open(blob);
      this.camera.stop();
      this.setMode('image');
      this.notices.drop('image');
    } catch (e) {
      this.notices.show(NOTICES.pictureFailed(e));
    }
  }

  async freeze(on: boolean): Promise<void> {
    if (on === this.still.frozen || (on && this.mode !== 'camera')) return;
    if (on) await this.still.freeze(this.page.video());
    else this.still.unfreeze(this.page.video());
  }

  /**
   * Makes sure a still picture is explained (for the slow methods): `still` (a photo or a frozen
   * frame), `frozen` (the live camera frame was frozen just now) or `none`.
   */
  async holdPicture(): Promise<'still' | 'frozen' | 'none'> {
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
    if (this.mode === 'camera' && !this.still.frozen) this.camera.attach();
    else void this.still.resend();
  }

  private setMode(mode: SourceController['mode']): void {
    this.mode = mode;
    this.host.requestUpdate();
  }
}
