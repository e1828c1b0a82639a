import { msg, str } from '@lit/localize';
import type { FramePath } from './controllers/camera.js';

const ms = (v: number | undefined): string => (v === undefined ? '–' : msg(str`${v.toFixed(v < 10 ? 1 : 0)} ms`));

const API_NAMES = { videoframe: 'VideoFrame', bitmap: 'ImageBitmap' } as const;

/** How the camera's frames reach the worker, for the panel: the API and, for grabbed frames, what each way cost. */
export function framePathText(p: FramePath): string {
  if (p.kind === 'track-processor') return msg('MediaStreamTrackProcessor on the page');
  if (p.kind === 'worker-track-processor') return msg('MediaStreamTrackProcessor in the worker');
  const costs = (Object.keys(API_NAMES) as (keyof typeof API_NAMES)[])
    .filter((k) => p.costs[k] !== undefined)
    .map((k) => `${API_NAMES[k]} ${ms(p.costs[k])}`)
    .join(' · ');
  const name = API_NAMES[p.kind];
  if (!costs) return msg(str`${name} per frame`);
  return p.measured
    ? msg(str`${name} per frame, the cheaper measured (${costs})`)
    : msg(str`${name} per frame (${costs})`);
}
