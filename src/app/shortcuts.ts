import { msg } from '@lit/localize';

/** Every control has a key; the help overlay lists them from here. */
export type Action =
  | 'toggle-cam'
  | 'next-method'
  | 'layer-toward-input'
  | 'layer-toward-output'
  | 'toggle-reduction'
  | 'next-colormap'
  | 'alpha-down'
  | 'alpha-up'
  | 'threshold-down'
  | 'threshold-up'
  | 'next-smoothing'
  | 'unpin'
  | 'freeze'
  | 'mirror'
  | 'open-image'
  | 'use-camera'
  | 'save'
  | 'record'
  | 'next-model'
  | 'toggle-crop'
  | 'presentation'
  | 'hud'
  | 'side-by-side'
  | 'help'
  | 'close';

// Labels are functions: a msg() evaluated when this module loads would stay in the first language.
export const SHORTCUTS: readonly { key: string; label: () => string; action: Action }[] = [
  { key: 'c', label: () => msg('CAM ↔ the default view'), action: 'toggle-cam' },
  { key: 'm', label: () => msg('next method'), action: 'next-method' },
  { key: 'l', label: () => msg('next feature layer (L: previous)'), action: 'layer-toward-input' },
  { key: 'L', label: () => msg('previous feature layer'), action: 'layer-toward-output' },
  { key: 'r', label: () => msg('reduction: logit ↔ softmax'), action: 'toggle-reduction' },
  { key: 'k', label: () => msg('next colormap'), action: 'next-colormap' },
  { key: '[', label: () => msg('less opaque'), action: 'alpha-down' },
  { key: ']', label: () => msg('more opaque'), action: 'alpha-up' },
  { key: ',', label: () => msg('lower threshold'), action: 'threshold-down' },
  { key: '.', label: () => msg('higher threshold'), action: 'threshold-up' },
  { key: 's', label: () => msg('smoothing: off / some / more'), action: 'next-smoothing' },
  { key: 'u', label: () => msg('follow the top prediction again (unpin)'), action: 'unpin' },
  { key: ' ', label: () => msg('freeze / resume'), action: 'freeze' },
  { key: 'f', label: () => msg('mirror the view'), action: 'mirror' },
  { key: 'o', label: () => msg('open a photo or a video'), action: 'open-image' },
  { key: 'v', label: () => msg('back to the camera'), action: 'use-camera' },
  { key: 'w', label: () => msg('save the view as PNG'), action: 'save' },
  { key: 'e', label: () => msg('record the view as a WebM video / stop and save it'), action: 'record' },
  { key: 'n', label: () => msg('model: default ↔ fast'), action: 'next-model' },
  { key: 'x', label: () => msg('crop: centre square ↔ whole frame'), action: 'toggle-crop' },
  {
    key: 'g',
    label: () => msg('presentation mode: the picture fills the screen (Escape leaves)'),
    action: 'presentation',
  },
  { key: 'h', label: () => msg('heads-up line on the picture: on / off'), action: 'hud' },
  { key: 'b', label: () => msg('side by side: CAM next to this view / one view'), action: 'side-by-side' },
  { key: '?', label: () => msg('this help'), action: 'help' },
  { key: 'Escape', label: () => msg('close help; leave presentation mode'), action: 'close' },
];

export function actionFor(event: KeyboardEvent): Action | undefined {
  if (event.ctrlKey || event.metaKey || event.altKey) return undefined;
  // Inside shadow roots the event's target is the host: the element typed into is the first on the path.
  const target = event.composedPath()[0] as HTMLElement | undefined;
  const tag = target?.tagName ?? '';
  if ((tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') && event.key !== 'Escape') return undefined;
  if (tag === 'BUTTON' && (event.key === ' ' || event.key === 'Enter')) return undefined;
  return SHORTCUTS.find((s) => s.key === event.key)?.action;
}
