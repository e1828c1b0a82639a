/// <reference lib="webworker" />
import type { FromWorker, ToWorker } from '../src/protocol.js';
import { ExplainService } from './explain-service.js';

declare const self: DedicatedWorkerGlobalScope;

const service = new ExplainService((message: FromWorker, transfer: Transferable[] = []) => self.postMessage(message, transfer));

const crash = (e: unknown): void => {
  self.postMessage({ type: 'error', code: 'internal', message: (e as Error)?.message ?? String(e), hint: null, fatal: false } satisfies FromWorker);
};

// Messages are handled one after another, in order: a settings change never overtakes an init.
let queue = Promise.resolve();
self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  // The camera stream is read for as long as it lives; it must not hold up the messages after it.
  if (message.type === 'stream') {
    void queue.then(() => service.handle(message)).catch(crash);
    return;
  }
  queue = queue.then(() => service.handle(message)).catch(crash);
};
