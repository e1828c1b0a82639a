/** Every control has a key; the help overlay lists them from here. */
export type Action =
  | 'toggle-cam' | 'next-method' | 'next-layer' | 'previous-layer' | 'toggle-reduction' | 'next-colormap'
  | 'alpha-down' | 'alpha-up' | 'threshold-down' | 'threshold-up' | 'next-smoothing' | 'unpin'
  | 'freeze' | 'mirror' | 'open-image' | 'use-camera' | 'save' | 'next-model' | 'toggle-crop' | 'projector' | 'help' | 'close';

export const SHORTCUTS: readonly { key: string; label: string; action: Action }[] = [
  { key: 'c', label: 'CAM ↔ default view (LayerCAM)', action: 'toggle-cam' },
  { key: 'm', label: 'next method', action: 'next-method' },
  { key: 'l', label: 'next feature layer (L: previous)', action: 'next-layer' },
  { key: 'L', label: 'previous feature layer', action: 'previous-layer' },
  { key: 'r', label: 'reduction: logit ↔ softmax', action: 'toggle-reduction' },
  { key: 'k', label: 'next colormap', action: 'next-colormap' },
  { key: '[', label: 'less opaque', action: 'alpha-down' },
  { key: ']', label: 'more opaque', action: 'alpha-up' },
  { key: ',', label: 'lower threshold', action: 'threshold-down' },
  { key: '.', label: 'higher threshold', action: 'threshold-up' },
  { key: 's', label: 'smoothing: off / some / more', action: 'next-smoothing' },
  { key: 'u', label: 'follow the top prediction again (unpin)', action: 'unpin' },
  { key: ' ', label: 'freeze / resume', action: 'freeze' },
  { key: 'f', label: 'mirror the view', action: 'mirror' },
  { key: 'o', label: 'open a photo', action: 'open-image' },
  { key: 'v', label: 'back to the camera', action: 'use-camera' },
  { key: 'w', label: 'save the view as PNG', action: 'save' },
  { key: 'n', label: 'model: default ↔ fast', action: 'next-model' },
  { key: 'x', label: 'crop: centre square ↔ whole frame', action: 'toggle-crop' },
  { key: 'g', label: 'projector mode (large, high contrast)', action: 'projector' },
  { key: '?', label: 'this help', action: 'help' },
  { key: 'Escape', label: 'close help', action: 'close' },
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
