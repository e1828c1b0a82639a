/// <reference lib="webworker" />
import type { FromWorker, ToWorker } from '../src/protocol.js';
import { chooseBackend, restartBackend } from './backend-select.js';
import { ExplainService } from './explain-service.js';
import { fetchExplainer, openPickedModel } from './model-loader.js';

declare const self: DedicatedWorkerGlobalScope;

const service = new ExplainService(
  (message: FromWorker, transfer: Transferable[] = []) => self.postMessage(message, transfer),
  { chooseBackend, restartBackend, fetchExplainer, openFiles: openPickedModel },
);

const crash = (e: unknown): void => {
  self.postMessage({
    type: 'error',
    code: 'internal',
    message: (e as Error)?.message ?? String(e),
    hint: null,
    fatal: false,
  } satisfies FromWorker);
};

// Messages are handled one after another, in order: a settings change never overtakes an init.
let queue = Promise.resolve();
self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  // The camera stream is read for as long as it lives, and training takes seconds: neither may hold
  // up the messages after it (settings changes, teaching examples).
  if (message.type === 'stream' || message.type === 'track' || message.type === 'teach-train') {
    void queue.then(() => service.handle(message)).catch(crash);
    return;
  }
  // A sent frame is answered at once, even while a model loads (dropped: no model), rather than
  // held open behind the load; a cancel reaches the running occlusion or LIME job at once.
  if (message.type === 'frame' || message.type === 'perturb-cancel') {
    service.handle(message).catch(crash);
    return;
  }
  queue = queue.then(() => service.handle(message)).catch(crash);
};
