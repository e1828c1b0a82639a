import { DEFAULT_MODEL_ID, defaultView, MODELS } from '../../models/registry.js';
import { COLORMAPS, type ColormapName } from '../explain/render/colormaps.js';
import { METHODS, REDUCTIONS } from '../explain/methods/names.js';
import { CROP_POLICIES } from '../explain/runtime/crop.js';
import { BACKENDS, type BackendName, type ExplainSettings } from '../protocol.js';
import { RESOLUTIONS, type Resolution } from './camera.js';

/** How the heatmap is shown; the page applies these without involving the worker. */
interface ViewSettings {
  colormap: ColormapName;
  alpha: number;
  threshold: number;
  /** Weight of the previous heatmap in exponential smoothing, 0 (none) to 0.9. */
  smoothing: number;
  mirror: boolean;
  /** Presentation mode: the live view fills the screen, large high-contrast text, controls hidden until the pointer moves. */
  presentation: boolean;
  /** The heads-up line over the picture (rate, latency, backend, method/layer). */
  hud: boolean;
}

export interface AppSettings extends Omit<ExplainSettings, 'paused'>, ViewSettings {
  model: string;
  resolution: Resolution;
}

/** The settings the worker explains with; the others are the page's own. */
export const WORKER_SETTINGS = [
  'method',
  'layer',
  'reduction',
  'classIndex',
  'crop',
  'contrastClass',
  'compare',
  'scramble',
] as const satisfies readonly (keyof ExplainSettings)[];

/** What the worker is told of the settings (`paused`: the page is hidden). */
export function workerSettingsOf(s: AppSettings, paused: boolean): ExplainSettings {
  const out = Object.fromEntries(WORKER_SETTINGS.map((k) => [k, s[k]])) as Omit<ExplainSettings, 'paused'>;
  return { ...out, paused };
}

/** The model's default view (`defaultView` in the registry, chosen by the README's rule); CAM is one key away. */
export function defaultSettings(model = DEFAULT_MODEL_ID): AppSettings {
  return {
    model,
    ...defaultView(model),
    classIndex: null,
    contrastClass: null,
    compare: null,
    crop: 'center',
    scramble: 0,
    colormap: 'jet',
    alpha: 0.5,
    threshold: 0,
    smoothing: 0,
    mirror: false,
    presentation: false,
    hud: true,
    resolution: '480p',
  };
}

interface StartOptions {
  settings: AppSettings;
  backend: BackendName | null;
  /** `?camera=off`: start with the still-image view instead of asking for the camera. */
  camera: boolean;
}

/** Settings from the address bar (`?backend=wasm&method=cam&model=…`), unknown values ignored. */
export function startOptions(params: URLSearchParams): StartOptions {
  const pick = <T extends string>(key: string, valid: readonly T[]): T | undefined => {
    const v = params.get(key);
    return v !== null && (valid as readonly string[]).includes(v) ? (v as T) : undefined;
  };
  const model =
    pick(
      'model',
      MODELS.map((m) => m.id),
    ) ?? DEFAULT_MODEL_ID;
  const settings = defaultSettings(model);
  const number = (key: string, min: number, max: number): number | undefined => {
    const v = params.get(key);
    const n = v === null ? NaN : Number(v);
    return Number.isFinite(n) && n >= min && n <= max ? n : undefined;
  };
  const cls = number('class', 0, 999);
  Object.assign(
    settings,
    Object.fromEntries(
      Object.entries({
        method: pick('method', METHODS),
        layer: params.get('layer') ?? undefined,
        reduction: pick('reduction', REDUCTIONS),
        crop: pick('crop', CROP_POLICIES),
        colormap: pick('colormap', COLORMAPS),
        alpha: number('alpha', 0, 1),
        threshold: number('threshold', 0, 1),
        smoothing: number('smoothing', 0, 0.9),
        resolution: pick('resolution', Object.keys(RESOLUTIONS) as Resolution[]),
        classIndex: cls === undefined ? undefined : Math.round(cls),
        // `?projector=1`, presentation mode's old name, still works in saved links.
        presentation: params.get('presentation') === '1' || params.get('projector') === '1' ? true : undefined,
        hud: params.get('hud') === '0' ? false : undefined,
      }).filter(([, v]) => v !== undefined),
    ),
  );
  return { settings, backend: pick('backend', BACKENDS) ?? null, camera: params.get('camera') !== 'off' };
}
