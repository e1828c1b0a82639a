import { msg } from '@lit/localize';
import { html } from 'lit';
import type { ResultMessage } from '../protocol.js';
import type { ComparisonController } from './controllers/comparison.js';
import type { ExplanationController } from './controllers/explanation.js';
import type { PerturbationController } from './controllers/perturbation.js';
import type { SourceController } from './controllers/source.js';
import type { TrustController } from './controllers/trust.js';
import type { VideoTools } from './controllers/video-tools.js';
import type { OverlayStyle } from './heatmap-renderer.js';
import type { HudFigures } from './hud.js';
import type { PaintedEvent } from './live-view.js';
import type { AppSettings } from './settings.js';
import { positionText } from './video/source-bar.js';

/** What the picture column shows: the view (and the second one side by side), the source bar, the clip's timeline. */
export interface StageState {
  settings: AppSettings;
  dragging: boolean;
  progress: string;
  latest: ResultMessage | null;
  figures: HudFigures | null;
  style: OverlayStyle;
  source: SourceController;
  explanation: ExplanationController;
  comparison: ComparisonController;
  perturbation: PerturbationController;
  trust: TrustController;
  tools: VideoTools;
  /** Shown over the stage (a lesson's card: under the picture, floating over it in presentation mode). */
  card: unknown;
  onPainted(e: PaintedEvent): void;
}

export function appStage(a: StageState) {
  const { settings: s, source, comparison, perturbation, tools } = a;
  const r = a.latest;
  const position = source.video.position();
  const shown = comparison.shown(r) + (position ? ` · ${positionText(position)}` : '');
  const empty = msg('No camera. Open a photo or a video (o), drop one here, or paste a photo.');
  return html`<div class="column">
    <div class="stage ${s.compare ? 'pair' : ''}">
      <whycam-live-view class=${a.dragging ? 'drop' : ''} .stream=${source.shownStream} .picture=${source.shownPicture}
        .videoSrc=${source.video.url} ?mirror=${s.mirror} .overlayStyle=${a.style}
        .frame=${perturbation.frame ?? a.explanation.frame}
        .label=${a.trust.label(perturbation.label() ?? comparison.firstLabel(r, s.classIndex !== null), r)}
        .emptyText=${source.mode === 'none' ? empty : a.progress}
        @painted=${a.onPainted}>${s.hud ? html`<whycam-hud-line .figures=${a.figures} .shown=${shown}></whycam-hud-line>` : null}</whycam-live-view>
      ${
        s.compare
          ? html`<whycam-live-view class="second" .stream=${source.video.url ? source.video.mirrorStream() : source.shownStream}
        .picture=${source.shownPicture} ?mirror=${s.mirror} .overlayStyle=${a.style} .frame=${comparison.frame}
        .label=${comparison.secondLabel()}></whycam-live-view>`
          : null
      }${a.card}
    </div>
    ${tools.bar(position)}
    ${tools.timeline(position?.time ?? 0, s.colormap)}
  </div>`;
}
