import type { Explainer } from '../src/explain/methods/explainer.js';
import type { ImageSource } from '../src/explain/runtime/input.js';
import { explainByPerturbation, type PerturbationRequest } from '../src/explain/perturbation/perturbation.js';
import type { CropPolicy } from '../src/explain/runtime/preprocess.js';
import type { PerturbationMessage, PerturbationSettings, PerturbMessage } from '../src/protocol.js';

type Post = (message: PerturbationMessage, transfer?: Transferable[]) => void;

/** The engine's options from the page's (the CLI's names and defaults; a grey level becomes input units as in the CLI). */
function perturbationRequestOptions(
  o: PerturbationSettings,
  inputRange: readonly [number, number],
): Pick<PerturbationRequest, 'occlusion' | 'lime'> {
  const [lo, hi] = inputRange;
  return {
    occlusion: {
      ...(o.maskSize !== null ? { maskSize: o.maskSize } : {}),
      ...(o.stride !== null ? { stride: o.stride } : {}),
      ...(o.maskValue !== null ? { maskValue: lo + (o.maskValue / 255) * (hi - lo) } : {}),
    },
    lime: {
      ...(o.numFeatures !== null ? { numFeatures: o.numFeatures } : {}),
      ...(o.numSamples !== null ? { numSamples: o.numSamples } : {}),
      ...(o.segmentation !== null ? { segmentation: o.segmentation } : {}),
    },
  };
}

function withBatchSize(
  o: Pick<PerturbationRequest, 'occlusion' | 'lime'>,
  batchSize: number,
): Pick<PerturbationRequest, 'occlusion' | 'lime'> {
  return { occlusion: { ...o.occlusion, batchSize }, lime: { ...o.lime, batchSize } };
}

/** What a job explains: the still picture, with the explainer in use (maybe scrambled). */
interface PerturbationInput {
  explainer: Explainer;
  picture: ImageSource;
  imageId: number;
  crop: CropPolicy;
  topK: number;
  scrambled: number;
  /**
   * Pictures per forward pass. Each batch blocks the worker's thread on CPU backends, where the
   * page's watchdog takes a long silence for a dead worker: small batches there, larger on a GPU.
   */
  batchSize: number;
}

/**
 * One occlusion or LIME run in the worker: progress after every batch, and an AbortController that
 * stops it between batches. It always ends with exactly one final message: done, cancelled or failed.
 */
export class PerturbationJob {
  readonly id: number;
  /** Settles when the job has posted its final message (never rejects). */
  readonly finished: Promise<void>;
  private readonly abort = new AbortController();

  constructor(message: PerturbMessage, input: PerturbationInput, post: Post) {
    this.id = message.jobId;
    this.finished = this.run(message, input, post);
  }

  cancel(): void {
    this.abort.abort();
  }

  private async run(message: PerturbMessage, input: PerturbationInput, post: Post): Promise<void> {
    const { jobId, method } = message;
    const signal = this.abort.signal;
    try {
      const result = await explainByPerturbation(input.explainer, input.picture, {
        method,
        classIndex: message.classIndex,
        crop: input.crop,
        topK: input.topK,
        ...withBatchSize(perturbationRequestOptions(message.options, input.explainer.inputRange), input.batchSize),
        signal,
        onProgress: (done, total) => post({ type: 'perturbation', jobId, method, state: 'progress', done, total }),
      });
      const d = result.details;
      const details =
        'maskSize' in d
          ? { maskSize: d.maskSize, stride: d.stride }
          : { features: d.features, numSamples: d.numSamples };
      const forwardPasses = 'forwardPasses' in d ? d.forwardPasses : d.numSamples + 1;
      const { heatmap } = result;
      post(
        {
          type: 'perturbation',
          jobId,
          method,
          state: 'done',
          result: {
            imageId: input.imageId,
            method,
            predictions: result.predictions,
            target: result.target,
            heatmap,
            region: result.region,
            sourceSize: result.source,
            details,
            forwardPasses,
            totalMs: result.timings.totalMs,
            scrambled: input.scrambled,
          },
        },
        [heatmap.data.buffer],
      );
    } catch (e) {
      if (signal.aborted) post({ type: 'perturbation', jobId, method, state: 'cancelled' });
      else
        post({
          type: 'perturbation',
          jobId,
          method,
          state: 'failed',
          message: ((e as Error)?.message ?? String(e)).split('\n')[0]!,
          hint: (e as { hint?: string }).hint ?? null,
        });
    }
  }
}
