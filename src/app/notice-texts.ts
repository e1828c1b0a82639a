import { msg, str } from '@lit/localize';
import { findModel } from '../../models/registry.js';
import { isWhyCamError } from '../explain/errors.js';
import { GRADCAM_PLUS_PLUS_INNER_LAYER_WARNING } from '../explain/methods/warnings.js';
import type { ErrorMessage } from '../protocol.js';
import type { Notice } from './controllers/notices.js';

/**
 * What the page says when something needs the user's attention, with what to do next; in the
 * page's language at the moment the notice is shown. Texts the worker sends (model and engine
 * errors) arrive in English.
 */
export const NOTICES = {
  updateReady: (): Notice => ({
    topic: 'update',
    kind: 'info',
    message: msg('A new version is ready — reload'),
    hint: msg('WhyCam was updated; reloading takes a second and keeps working offline.'),
    actions: [{ label: msg('Reload'), action: 'apply-update' }],
  }),
  gpuRecovering: (reason: string): Notice => ({
    topic: 'worker',
    kind: 'info',
    message: msg('The GPU stopped working; WhyCam is restarting its backend.'),
    hint: reason,
    actions: [],
  }),
  workerRestarted: (reason: string): Notice => ({
    topic: 'worker',
    kind: 'info',
    message: msg('The explanation worker stopped and was restarted.'),
    hint: reason,
    actions: [],
  }),
  workerError: (m: ErrorMessage): Notice => ({
    topic: m.fatal ? 'model' : 'request',
    kind: 'error',
    message: m.message,
    hint: m.hint ?? '',
    actions: m.fatal ? [{ label: msg('Reload'), action: 'reload' }] : [],
  }),
  cameraFailed: (e: unknown): Notice => ({
    topic: 'camera',
    kind: 'error',
    ...firstLine(e),
    actions: [
      { label: msg('Open a photo'), action: 'open-image' },
      { label: msg('Try the camera again'), action: 'use-camera' },
    ],
  }),
  cameraLost: (): Notice => ({
    topic: 'camera',
    kind: 'error',
    message: msg('The camera stopped (unplugged, or taken by another program).'),
    hint: msg('WhyCam resumes by itself when a camera comes back; meanwhile you can open a photo.'),
    actions: [
      { label: msg('Try the camera again'), action: 'use-camera' },
      { label: msg('Open a photo'), action: 'open-image' },
    ],
  }),
  pictureFailed: (e: unknown): Notice => ({
    topic: 'image',
    kind: 'error',
    ...firstLine(e),
    actions: [{ label: msg('Open another photo'), action: 'open-image' }],
  }),
  videoFailed: (e: unknown): Notice => ({
    topic: 'video',
    kind: 'error',
    ...firstLine(e),
    actions: [{ label: msg('Open another file'), action: 'open-image' }],
  }),
  clipFailed: (e: unknown): Notice => ({ topic: 'clip', kind: 'error', ...firstLine(e), actions: [] }),
  recordingFailed: (e: unknown): Notice => ({ topic: 'recording', kind: 'error', ...firstLine(e), actions: [] }),
  scrambled: (blocks: number, lowest: string): Notice => ({
    topic: 'scramble',
    kind: 'info',
    message: msg(
      str`Sanity check: the network is scrambled. Its top ${blocks} blocks (logits down to ${lowest}) have random weights.`,
    ),
    hint: msg(
      'The prediction and the map now come from a destroyed network: a map that still looks the same is not explaining the network. The stored model is untouched.',
    ),
    actions: [{ label: msg('Restore the real network'), action: 'unscramble' }],
  }),
  /** `methodWarning()`'s caution, in the page's language (the English is the engine's text, word for word). */
  methodWarning: (text: string): Notice => ({
    topic: 'method-warning',
    kind: 'info',
    message:
      text === GRADCAM_PLUS_PLUS_INNER_LAYER_WARNING
        ? msg(
            'Grad-CAM++ is unreliable at inner layers: its closed-form weights favour the image border here (pointing game ≈ 14% at 14×14); use LayerCAM, or Grad-CAM++ at the last conv layer.',
          )
        : text,
    hint: '',
    actions: [],
  }),
  frozenForSlowMethod: (): Notice => ({
    topic: 'slow-method',
    kind: 'info',
    message: msg('Occlusion and LIME explain still pictures: the camera frame was frozen first.'),
    hint: msg('Press Resume (space) to go back to the live camera.'),
    actions: [],
  }),
  nothingToSave: (): Notice => ({
    topic: 'save',
    kind: 'info',
    message: msg('Nothing to save yet: wait for the first heatmap.'),
    hint: '',
    actions: [],
  }),
  slowDevice: (rate: number, model: string, fastModel: string): Notice => ({
    topic: 'speed',
    kind: 'info',
    message: msg(
      str`This device explains ${rate.toFixed(1)} pictures per second with ${findModel(model)?.displayName ?? model}.`,
    ),
    hint: msg(
      str`${findModel(fastModel)?.displayName ?? fastModel} is about three times faster (and less accurate): it follows the camera more smoothly.`,
    ),
    actions: [{ label: msg('Use the fast model'), action: 'use-fast-model' }],
  }),
};

function firstLine(e: unknown): { message: string; hint: string } {
  const err = isWhyCamError(e) ? e : null;
  return { message: err?.message.split('\n')[0] ?? String(e), hint: err?.hint ?? '' };
}
