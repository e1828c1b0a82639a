import type { Explainer } from '../src/explain/methods/explainer.js';
import type { OpenedModel } from '../src/explain/models/open-model.js';
import type { Normalization } from '../src/explain/network/normalization.js';
import type { BackendName, FrameAckMessage, FromWorker } from '../src/protocol.js';
import type { BackendChoice } from './backend-select.js';

/** How the service's parts talk to the page: `postMessage`, or a spy in the tests. */
export type Post = (message: FromWorker, transfer?: Transferable[]) => void;

/** A camera frame: a VideoFrame from a track's stream, or an ImageBitmap the page sent. */
export type CameraFrame = VideoFrame | ImageBitmap;

/** The part of an explainer the service uses (tests give it a fake). */
export type FrameExplainer = Pick<
  Explainer,
  'explain' | 'explainMany' | 'warmUp' | 'resolve' | 'dispose' | 'featureLayers' | 'lastConvLayer' | 'camLayer'
> & { labels?: { short: readonly string[] } };

/** What the service needs from its surroundings: the worker passes the real ones, tests fakes. */
export interface ServiceRuntime {
  chooseBackend(forced: BackendName | null): Promise<BackendChoice>;
  restartBackend(name: BackendName, forced: BackendName | null): Promise<BackendChoice>;
  fetchExplainer(id: string, baseUrl: string, onProgress: (text: string) => void): Promise<FrameExplainer>;
  /**
   * A Teachable Machine export, a taught model or the user's own Keras model from files (absent
   * where the service is tested without files); `normalize` is the own model's input normalisation.
   */
  openFiles?(
    files: readonly File[],
    baseUrl: string,
    onProgress: (text: string) => void,
    normalize?: Normalization,
  ): Promise<OpenedModel>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What became of a camera frame; the page hears it for the frames it sent (`frame-ack`). */
export type FrameOutcome = DistributiveOmit<FrameAckMessage, 'type' | 'frameId' | 'streamId'>;
