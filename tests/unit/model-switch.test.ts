// The worker's model life (ModelLifecycle) with fakes around it: a registered model the server
// lacks leaves the model in use in place, and the page is told both why and what stays; a model
// from files is opened with the normalisation the page gave, and the page hears its summary.
import { describe, expect, it, vi } from 'vitest';
import { WhyCamError } from '../../src/explain/errors.js';
import type { Explainer } from '../../src/explain/methods/explainer.js';
import type { OpenedModel } from '../../src/explain/models/open-model.js';
import { type FromWorker, PROTOCOL_VERSION, type ReadyMessage } from '../../src/protocol.js';
import { ErrorReporter } from '../../workers/error-report.js';
import { ModelLifecycle } from '../../workers/model-lifecycle.js';
import type { FrameExplainer, ServiceRuntime } from '../../workers/service-types.js';

const LAYER = { name: 'conv', width: 2, height: 2, channels: 8 };

/** Just enough of an explainer to be loaded, compiled and disposed. */
function fakeExplainer(): FrameExplainer & { disposed: boolean } {
  const fake = {
    featureLayers: [LAYER],
    lastConvLayer: LAYER.name,
    camLayer: LAYER.name,
    labels: { short: ['day', 'night'] },
    disposed: false,
    explain: () => Promise.reject(new Error('not in this test')),
    explainMany: () => Promise.reject(new Error('not in this test')),
    warmUp: () => Promise.resolve(),
    resolve: () => undefined,
    dispose: () => {
      fake.disposed = true;
    },
  };
  return fake as unknown as FrameExplainer & { disposed: boolean };
}

function lifecycle(runtime: Partial<ServiceRuntime>) {
  const posted: FromWorker[] = [];
  const post = (m: FromWorker): void => void posted.push(m);
  const wake = vi.fn();
  const models = new ModelLifecycle(
    post,
    {
      chooseBackend: async () => ({ name: 'cpu', notes: [] }),
      restartBackend: async () => ({ name: 'cpu', notes: [] }),
      fetchExplainer: async () => fakeExplainer(),
      ...runtime,
    },
    new ErrorReporter(post),
    { detached: () => undefined, views: () => [], installed: async () => undefined, wake },
  );
  const start = () =>
    models.start({
      type: 'init',
      version: PROTOCOL_VERSION,
      backend: 'cpu',
      model: 'mobilenet_v1_0.75_224',
      modelBaseUrl: '/models',
      settings: {} as never,
    });
  return { models, posted, wake, start };
}

describe('switching to a registered model the server lacks', () => {
  it('keeps the model in use, says why (naming the fix), then says ready with the kept model', async () => {
    const message =
      'http://127.0.0.1/models/squeezenet1.1/deploy.prototxt is missing: the model has not been downloaded.';
    const hint = 'On the machine that serves WhyCam run `npm run models -- --model squeezenet1.1`.';
    const missing = new WhyCamError('model-missing', message, hint);
    const { models, posted, wake, start } = lifecycle({
      fetchExplainer: async (id) => {
        if (id === 'squeezenet1.1') throw missing;
        return fakeExplainer();
      },
    });
    expect(await start()).toBe(true);
    const kept = models.explainer as FrameExplainer & { disposed: boolean };
    const first = posted.find((m): m is ReadyMessage => m.type === 'ready')!;
    expect(first.modelSummary).toEqual([]);
    posted.length = 0;
    wake.mockClear();

    await models.switchTo('squeezenet1.1');
    expect(posted.map((m) => m.type)).toEqual(['model-failed', 'ready']);
    expect(posted[0]).toEqual({
      type: 'model-failed',
      model: 'squeezenet1.1',
      during: 'switch',
      code: 'model-missing',
      message,
      hint,
    });
    expect(posted[1]).toEqual(first);
    expect(models.explainer).toBe(kept);
    expect(kept.disposed).toBe(false);
    expect(models.model).toBe('mobilenet_v1_0.75_224');
    expect(wake).toHaveBeenCalled();
  });
});

describe('a model from files', () => {
  it('is opened with the normalisation given, and its ready message carries its kind and summary', async () => {
    const openFiles = vi.fn(async (): Promise<OpenedModel> => ({
      explainer: fakeExplainer() as unknown as Explainer,
      name: 'my model',
      kind: 'keras',
      summary: ['Recognised: a Keras model.', 'Input: RGB in [0, 1].'],
      labels: ['day', 'night'],
      baseModel: null,
      accuracy: null,
      methodNotes: 'CAM at conv is exact.',
    }));
    const { models, posted, start } = lifecycle({ openFiles });
    await start();
    posted.length = 0;
    const files = [new File(['{}'], 'model.json')];
    await models.openFiles('stored:my model', files, 'open', 'zero-to-one');
    expect(openFiles).toHaveBeenCalledWith(files, '/models', expect.any(Function), 'zero-to-one');
    const ready = posted.find((m): m is ReadyMessage => m.type === 'ready')!;
    expect(ready).toMatchObject({
      model: 'stored:my model',
      modelName: 'my model',
      origin: 'keras',
      modelSummary: ['Recognised: a Keras model.', 'Input: RGB in [0, 1].'],
      labels: ['day', 'night'],
    });
    expect(models.origin).toMatchObject({ kind: 'files', normalize: 'zero-to-one' });
  });
});
