/** Writing a taught head as the files of a Teachable Machine export (the format: models/taught-format.ts). */
import { zipSync } from 'fflate';
import { HEAD_LAYER, type ModelFiles, type TaughtMetadata } from '../models/taught-format.js';
import type { TaughtHead } from './teach.js';

/**
 * A taught model as `model.json` + `weights.bin` + `metadata.json`, laid out as Teachable Machine
 * lays out its exports (a Sequential holding the head; the labels in the metadata) and naming the
 * base model, which is not copied: any WhyCam has it. The examples are not included.
 */
export function taughtModelFiles(
  head: TaughtHead,
  base: { id: string; pool: string; inputSize: number },
  name: string,
): ModelFiles {
  const classes = head.labels.length;
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'whycam_taught',
      layers: [
        {
          class_name: 'Dense',
          config: {
            name: HEAD_LAYER,
            units: classes,
            activation: 'softmax',
            use_bias: true,
            batch_input_shape: [null, head.featureSize],
            dtype: 'float32',
          },
        },
      ],
    },
    keras_version: 'tfjs-layers',
    backend: 'tensor_flow.js',
  };
  const modelJson = {
    modelTopology: topology,
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: [
          { name: `${HEAD_LAYER}/kernel`, shape: [head.featureSize, classes], dtype: 'float32' },
          { name: `${HEAD_LAYER}/bias`, shape: [classes], dtype: 'float32' },
        ],
      },
    ],
  };
  const weights = new Float32Array(head.kernel.length + head.bias.length);
  weights.set(head.kernel);
  weights.set(head.bias, head.kernel.length);
  const whycam: TaughtMetadata = {
    format: 1,
    baseModel: base.id,
    baseLayer: base.pool,
    accuracy: head.accuracy,
    classes: head.classes,
  };
  const metadata = {
    modelName: name,
    labels: head.labels,
    imageSize: base.inputSize,
    packageName: 'whycam',
    timeStamp: new Date().toISOString(),
    whycam,
  };
  const json = (v: unknown): Uint8Array<ArrayBuffer> => new TextEncoder().encode(JSON.stringify(v));
  return {
    'model.json': json(modelJson),
    'weights.bin': new Uint8Array(weights.buffer),
    'metadata.json': json(metadata),
  };
}

/** The three files in one zip (what the app exports and imports). */
export function zipModelFiles(files: ModelFiles): Uint8Array<ArrayBuffer> {
  // fflate always returns a fresh array over its own ArrayBuffer.
  return zipSync({ ...files }, { level: 6 }) as Uint8Array<ArrayBuffer>;
}
