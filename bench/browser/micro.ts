import type { MicroMessage, MicroRequest, MicroResult } from './protocol.js';

/** Runs one backend's micro-benchmark in its own worker and collects the results. */
async function runMicro(
  request: Omit<MicroRequest, 'bitmap'> & { image: string },
): Promise<{ results: MicroResult[]; notes: string[] }> {
  const blob = await (await fetch(request.image)).blob();
  const bitmap = await createImageBitmap(blob);
  const worker = new Worker(new URL('./micro.worker.ts', import.meta.url), { type: 'module' });
  const results: MicroResult[] = [];
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<MicroMessage>) => {
      const m = e.data;
      if (m.type === 'result') results.push(m.result);
      else if (m.type === 'done') {
        worker.terminate();
        resolve({ results, notes: m.backendNotes });
      } else {
        worker.terminate();
        reject(new Error(m.message));
      }
    };
    worker.onerror = (e) => reject(new Error(e.message));
    const { image: _image, ...rest } = request;
    void _image;
    worker.postMessage({ ...rest, bitmap }, [bitmap]);
  });
}

(window as unknown as { runMicro: typeof runMicro }).runMicro = runMicro;
