import { html, type ReactiveControllerHost } from 'lit';
import type { ToWorker } from '../../protocol.js';
import type { ColormapName } from '../../explain/render/colormaps.js';
import type { OverlayStyle } from '../heatmap-renderer.js';
import type { LiveView } from '../live-view.js';
import { NOTICES } from '../notice-texts.js';
import { clipCsv, clipJson } from '../video/clip-result.js';
import '../video/source-bar.js';
import '../video/timeline.js';
import { download } from '../video/webm-writer.js';
import { ClipExplainController, type ClipSettings } from './clip-explain.js';
import type { NoticesController } from './notices.js';
import { type RecordedScene, RecordingController } from './recording.js';
import type { SourceController } from './source.js';
import type { VideoPosition } from './video-source.js';

interface ToolsHost {
  send(message: ToWorker, transfer?: Transferable[]): void;
  source: SourceController;
  notices: NoticesController;
  settings(): ClipSettings & { mirror: boolean };
  /** The live views on screen, first one first. */
  views(): LiveView[];
}

/**
 * The video tools under the picture: the clip's controls and its whole-clip explanation with the
 * timeline and exports, and the recording of the live view; their bar and timeline, and the events
 * those send up.
 */
export class VideoTools {
  readonly clip: ClipExplainController;
  readonly recording: RecordingController;

  constructor(
    host: ReactiveControllerHost,
    private readonly page: ToolsHost,
  ) {
    const style = (): OverlayStyle => page.views()[0]!.overlayStyle;
    this.clip = new ClipExplainController(host, { ...page, style, mirror: () => page.settings().mirror });
    this.recording = new RecordingController(host, {
      scene: () => this.scene(),
      failed: (e) => page.notices.show(NOTICES.recordingFailed(e)),
    });
  }

  bar(position: VideoPosition | null) {
    const { clip, recording } = this;
    const source = this.page.source;
    return html`<whycam-source-bar .position=${position} .clipState=${clip.state} .done=${clip.done} .total=${clip.total}
      ?recording=${recording.recording} .elapsedMs=${recording.elapsedMs} ?canRecord=${source.mode !== 'none'}
      @play-toggle=${() => void source.freeze(!!position && !position.paused)}
      @seek=${(e: CustomEvent<{ time: number }>) => source.video.seek(e.detail.time)}
      @explain-clip=${(e: CustomEvent<{ every: number }>) => void this.explainClip(e.detail.every)}
      @cancel-clip=${() => clip.cancel()} @record=${() => recording.toggle()}></whycam-source-bar>`;
  }

  timeline(time: number, colormap: ColormapName) {
    const { clip } = this;
    if (!clip.result || this.page.source.mode !== 'video') return null;
    return html`<whycam-timeline .result=${clip.result} .thumbnails=${clip.thumbnails} .time=${time} .colormap=${colormap}
      @seek=${(e: CustomEvent<{ time: number }>) => this.page.source.video.seek(e.detail.time)}
      @clip-export=${(e: CustomEvent<{ kind: 'webm' | 'json' | 'csv' }>) => this.exportClip(e.detail.kind)}></whycam-timeline>`;
  }

  /** The button's run: failures are shown, not thrown. */
  async explainClip(every: number): Promise<void> {
    this.page.notices.drop('clip');
    await this.clip.run({ every }).catch((e) => this.page.notices.show(NOTICES.clipFailed(e)));
  }

  exportClip(kind: 'webm' | 'json' | 'csv'): void {
    const r = this.clip.result;
    if (!r) return;
    const base = `whycam-${r.file.replace(/\.[^.]+$/, '').replace(/[^\w-]+/g, '_')}-${r.method.replace('++', 'pp')}`;
    if (kind === 'webm' && r.webm) download(r.webm, `${base}.webm`);
    if (kind === 'json') download(new Blob([clipJson(r)], { type: 'application/json' }), `${base}.json`);
    if (kind === 'csv') download(new Blob([clipCsv(r)], { type: 'text/csv' }), `${base}.csv`);
  }

  /** What the screen shows, view by view: what the recording burns in. */
  private scene(): RecordedScene | null {
    const views = this.page.views();
    const composed = views.map((v) => v.composedView()).filter((v) => v !== null);
    if (composed.length === 0) return null;
    return {
      views: composed,
      style: views[0]!.overlayStyle,
      mirror: this.page.settings().mirror,
      hud: views[0]!.hudText,
    };
  }
}
