import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { WhyCamError } from '../errors.js';
import { KERAS_LAYER_CLASSES } from './importers/keras.js';

/**
 * Teachable Machine feeds its image models the centre square of the picture, resized to the
 * model's input, as `x / 127 − 1` (@teachablemachine/image, `capture()`): 0..255 maps onto
 * [−1, 128/127], not [−1, 1]. In WhyCam's terms that is this input range with the `center` crop.
 */
export const TEACHABLE_MACHINE_INPUT_RANGE: readonly [number, number] = [-1, 255 / 127 - 1];

/** What `metadata.json` says about an exported image model (both the 2019 beta form and the current one). */
export interface ModelMetadata {
  labels: string[];
  /** Square input side; the early exports omit it (224). */
  imageSize: number;
  modelName: string;
  /** Any other fields, kept for the caller (a taught model names its base model here). */
  raw: Record<string, unknown>;
}

export function parseMetadata(bytes: Uint8Array, location: string): ModelMetadata {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new WhyCamError(
      'model-corrupt',
      `${location}/metadata.json is not valid JSON (damaged or truncated).`,
      REEXPORT,
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WhyCamError('model-corrupt', `${location}/metadata.json is not a model description.`, REEXPORT);
  }
  const raw = json as Record<string, unknown>;
  const packageName = raw['packageName'];
  if (
    typeof packageName === 'string' &&
    packageName.startsWith('@teachablemachine/') &&
    packageName !== '@teachablemachine/image'
  ) {
    throw new WhyCamError(
      'unsupported-model',
      `${location} is a ${packageName.slice('@teachablemachine/'.length)} model.`,
      'WhyCam explains Teachable Machine image models (project type "Image"); pose and audio models have no picture to explain.',
    );
  }
  const labels = raw['labels'];
  if (!Array.isArray(labels) || labels.length < 1 || !labels.every((l) => typeof l === 'string')) {
    throw new WhyCamError('model-corrupt', `${location}/metadata.json has no list of class labels.`, REEXPORT);
  }
  const imageSize = raw['imageSize'] ?? 224;
  if (typeof imageSize !== 'number' || !Number.isInteger(imageSize) || imageSize < 32) {
    throw new WhyCamError(
      'model-corrupt',
      `${location}/metadata.json gives an image size of ${JSON.stringify(imageSize)}.`,
      REEXPORT,
    );
  }
  const modelName = typeof raw['modelName'] === 'string' ? raw['modelName'] : 'Teachable Machine model';
  return { labels: labels as string[], imageSize, modelName, raw };
}

const REEXPORT =
  'In Teachable Machine choose Export Model → TensorFlow.js → Download, and keep the three files together: model.json, weights.bin, metadata.json.';

type Ref = [string, number, number];

interface LayerJson {
  class_name: string;
  config: unknown;
  name?: string;
  inbound_nodes?: unknown[];
}

/** The classes tfjs-layers knows besides the engine's own: containers, inputs and the softmax the head is read from. */
const STRUCTURAL = ['InputLayer', 'Sequential', 'Model', 'Functional', 'Softmax'];

/** The layer classes WhyCam runs and back-propagates through itself, for error messages. */
function supportedLayerClasses(): string {
  return [...new Set([...KERAS_LAYER_CLASSES, ...STRUCTURAL])].sort().join(', ');
}

/**
 * Rewrites a Keras topology whose layers may themselves be Sequential or functional models (as
 * Teachable Machine saves them: a Sequential of a Sequential holding MobileNet V2 and pooling, and
 * a Sequential head) into one functional model over the same layer names. The weights keep
 * matching by name, and every layer becomes visible to the engine (a nested model is otherwise one
 * opaque layer that nothing can be explained through).
 */
export function flattenTopology(topology: unknown): Record<string, unknown> {
  const wrapper = topology as Record<string, unknown> | null;
  // Keras saves `{model_config, keras_version, backend}`; tfjs-layers saves the model itself.
  const top = (
    wrapper && typeof wrapper === 'object' && 'model_config' in wrapper ? wrapper['model_config'] : topology
  ) as LayerJson & Record<string, unknown>;
  if (typeof top !== 'object' || top === null || typeof top.class_name !== 'string') {
    throw new WhyCamError('model-corrupt', 'model.json has no model topology (class_name and config).', REEXPORT);
  }
  const layers: LayerJson[] = [];
  const names = new Set<string>();
  let input: Ref | undefined;
  const add = (layer: LayerJson & { name: string }): void => {
    if (names.has(layer.name)) {
      throw new WhyCamError(
        'unsupported-model',
        `The model has two layers named "${layer.name}".`,
        'Shared or repeated layers are not supported.',
      );
    }
    names.add(layer.name);
    layers.push(layer);
  };
  const addInput = (name: string, config: Record<string, unknown>): Ref => {
    if (input)
      throw new WhyCamError(
        'unsupported-model',
        `The model has a second input, "${name}".`,
        'WhyCam explains models with one image input.',
      );
    add({ name, class_name: 'InputLayer', config: { ...config, name }, inbound_nodes: [] });
    input = [name, 0, 0];
    return input;
  };

  const inline = (layer: LayerJson, from: Ref | undefined): Ref => {
    const config = layer.config;
    switch (layer.class_name) {
      case 'Sequential': {
        const inner = (Array.isArray(config) ? config : (config as { layers?: unknown }).layers) as
          LayerJson[] | undefined;
        if (!Array.isArray(inner) || inner.length === 0)
          throw new WhyCamError('model-corrupt', 'model.json holds a Sequential model with no layers.', REEXPORT);
        let ref = from;
        for (const l of inner) ref = inline(l, ref);
        return ref!;
      }
      case 'Model':
      case 'Functional':
        return inlineFunctional(config as FunctionalConfig, from);
      case 'InputLayer': {
        const c = config as Record<string, unknown>;
        return from ?? addInput((c['name'] as string | undefined) ?? layer.name ?? 'input', c);
      }
      default: {
        const c = { ...(config as Record<string, unknown>) };
        const name = (c['name'] as string | undefined) ?? layer.name;
        if (!name)
          throw new WhyCamError('model-corrupt', `model.json has an unnamed ${layer.class_name} layer.`, REEXPORT);
        const shape = c['batch_input_shape'] ?? c['batchInputShape'];
        delete c['batch_input_shape'];
        delete c['batchInputShape'];
        let source = from;
        if (!source) {
          if (!Array.isArray(shape))
            throw new WhyCamError(
              'model-corrupt',
              `model.json does not say the input shape of its first layer, "${name}".`,
              REEXPORT,
            );
          source = addInput(`${name}_input`, {
            batch_input_shape: shape,
            dtype: c['dtype'] ?? 'float32',
            sparse: false,
          });
        }
        add({ name, class_name: layer.class_name, config: c, inbound_nodes: [[[...source, {}]]] });
        return [name, 0, 0];
      }
    }
  };

  interface FunctionalConfig {
    layers: (LayerJson & { name: string; inbound_nodes: [string, number, number, unknown?][][] })[];
    input_layers: Ref[];
    output_layers: Ref[];
  }
  const inlineFunctional = (config: FunctionalConfig, from: Ref | undefined): Ref => {
    if (!Array.isArray(config?.layers) || config.input_layers?.length !== 1 || config.output_layers?.length !== 1) {
      throw new WhyCamError(
        'unsupported-model',
        'model.json holds a functional model without exactly one input and one output.',
        'WhyCam explains image classifiers with one image input and one class-score output.',
      );
    }
    const renamed = new Map<string, Ref>();
    const resolve = ([name, node, tensor]: Ref | [string, number, number, unknown?]): Ref =>
      renamed.get(name) ?? [name, node, tensor];
    for (const l of config.layers) {
      if (l.class_name === 'InputLayer') {
        renamed.set(l.name, from ?? addInput(l.name, l.config as Record<string, unknown>));
        continue;
      }
      const inbound = l.inbound_nodes;
      if (!Array.isArray(inbound) || inbound.length !== 1) {
        throw new WhyCamError(
          'unsupported-model',
          `Layer "${l.name}" is applied ${Array.isArray(inbound) ? inbound.length : 0} times.`,
          'Shared layers are not supported: export the model with each layer used once.',
        );
      }
      if (['Sequential', 'Model', 'Functional'].includes(l.class_name)) {
        if (inbound[0]!.length !== 1)
          throw new WhyCamError(
            'unsupported-model',
            `The nested model "${l.name}" takes ${inbound[0]!.length} inputs.`,
          );
        renamed.set(l.name, inline(l, resolve(inbound[0]![0]!)));
        continue;
      }
      add({ ...l, inbound_nodes: [inbound[0]!.map((ref) => [...resolve(ref), ref[3] ?? {}])] });
    }
    return resolve(config.output_layers[0]!);
  };

  const output = inline(top, undefined);
  if (!input) throw new WhyCamError('model-corrupt', 'model.json has no input layer.', REEXPORT);
  return {
    class_name: 'Model',
    config: { name: 'flattened', layers, input_layers: [input], output_layers: [output] },
    ...(wrapper?.['keras_version'] ? { keras_version: wrapper['keras_version'] } : {}),
    ...(wrapper?.['backend'] ? { backend: wrapper['backend'] } : {}),
  };
}

/** Every layer class in a (flattened) topology that tfjs-layers cannot build, with a layer of each. */
function unknownLayerClasses(flat: Record<string, unknown>): { className: string; layer: string }[] {
  const layers = (flat['config'] as { layers: LayerJson[] }).layers;
  const found = new Map<string, string>();
  const known = tf.serialization.SerializationMap.getMap().classNameMap;
  for (const l of layers) {
    if (!found.has(l.class_name) && !Object.hasOwn(known, l.class_name)) found.set(l.class_name, l.name ?? '?');
  }
  return [...found].map(([className, layer]) => ({ className, layer }));
}

/**
 * Loads a topology that may nest models (flattened first) with its weights. A layer class tfjs
 * cannot build is refused by name, with the classes WhyCam supports.
 */
export async function loadFlattened(artifacts: tf.io.ModelArtifacts, location: string): Promise<tfl.LayersModel> {
  const flat = flattenTopology(artifacts.modelTopology);
  const unknown = unknownLayerClasses(flat);
  if (unknown.length > 0) {
    throw new WhyCamError(
      'unsupported-model',
      `${location} uses layer ${unknown.length === 1 ? 'class' : 'classes'} ${unknown.map((u) => `${u.className} (layer "${u.layer}")`).join(', ')}, which WhyCam cannot run.`,
      `Supported layer classes: ${supportedLayerClasses()}; other tfjs-layers classes run forward only.`,
    );
  }
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory({ ...artifacts, modelTopology: flat }));
  } catch (e) {
    if (e instanceof WhyCamError) throw e;
    throw new WhyCamError(
      'model-corrupt',
      `${location}/model.json could not be built: ${(e as Error).message}`,
      REEXPORT,
    );
  }
}
