import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as tfl from '@tensorflow/tfjs-layers';
import { BaselineGradCam } from './baseline.js';

// What a straightforward live Grad-CAM page does: tfjs on the main thread, one frame after the
// other from the <video>, heatmap drawn with putImageData.
const stats = { frames: 0, started: 0, error: '' };
(window as unknown as { naive: typeof stats }).naive = stats;

async function main(): Promise<void> {
  const backend = new URLSearchParams(location.search).get('backend') ?? 'wasm';
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmPlain,
    'tfjs-backend-wasm-simd.wasm': wasmSimd,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
  });
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await tf.setBackend(backend);
  const model = await tfl.loadLayersModel('/models/mobilenet_v1_0.75_224/model.json');
  const baseline = new BaselineGradCam(model, 'conv_pw_13_relu', 'conv_preds');
  const video = document.querySelector('video')!;
  const canvas = document.querySelector('canvas')!;
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 } });
  await video.play();
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const ctx = canvas.getContext('2d')!;
  stats.started = performance.now();
  for (;;) {
    const pixels = tf.browser.fromPixels(video);
    const overlay = await baseline.run(pixels, canvas.width, canvas.height);
    pixels.dispose();
    ctx.putImageData(new ImageData(overlay, canvas.width, canvas.height), 0, 0);
    stats.frames++;
    await new Promise((r) => requestAnimationFrame(r));
  }
}

main().catch((e: Error) => {
  stats.error = e.message;
});
