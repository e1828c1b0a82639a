import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ToWorker } from '../../protocol.js';
import { decodeImageFile } from '../image-file.js';

/**
 * The still picture being explained: an opened photo, or the camera frame frozen on screen. The
 * page shows its own bitmap and sends the worker a copy, numbered so that late results of an
 * earlier picture are recognised.
 */
export class StillPictureController implements ReactiveController {
  picture: ImageBitmap | null = null;
  /** The picture is a frozen camera frame (the camera resumes when unfrozen). */
  frozen = false;
  private imageId = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly send: (m: ToWorker, transfer?: Transferable[]) => void,
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.clear();
  }

  isCurrent(imageId: number): boolean {
    return imageId === this.imageId;
  }

  /** Decodes and shows a photo; throws a message for the user when the file is not a usable picture. */
  async open(blob: Blob): Promise<void> {
    const bitmap = await decodeImageFile(blob);
    this.clear();
    this.picture = bitmap;
    await this.resend();
  }

  /** Holds the video's current frame; false when there is nothing to hold (or `wanted` says it is no longer wanted). */
  async freeze(video: HTMLVideoElement | undefined, wanted = (): boolean => true): Promise<boolean> {
    if (!video || video.videoWidth === 0) return false;
    video.pause();
    const still = await createImageBitmap(video);
    if (!wanted()) {
      still.close();
      return false;
    }
    this.clear();
    this.picture = still;
    this.frozen = true;
    await this.resend();
    return true;
  }

  /** Lets the camera run again after a freeze. */
  unfreeze(video: HTMLVideoElement | undefined): void {
    this.clear();
    this.send({ type: 'camera' });
    void video?.play();
  }

  /** Gives the picture up (back to the camera). */
  clear(): void {
    this.picture?.close();
    this.picture = null;
    this.frozen = false;
    this.host.requestUpdate();
  }

  /** Sends a copy again (a restarted worker has lost the picture). */
  async resend(): Promise<void> {
    if (!this.picture) return;
    const copy = await createImageBitmap(this.picture);
    this.imageId++;
    this.send({ type: 'image', bitmap: copy, imageId: this.imageId }, [copy]);
  }
}
