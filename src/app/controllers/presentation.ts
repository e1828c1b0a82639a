import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** How long the controls stay on screen after the last pointer move or key press. */
const CONTROLS_SHOWN_MS = 2500;

/**
 * Presentation mode: the page goes fullscreen where the browser allows it (a key press or click is
 * a user gesture; a call from a script is not, and is refused), and otherwise fills the window with
 * the same layout. The host gets `presentation` while it is on and `idle` while the controls are
 * hidden: they come back when the pointer moves or a key is pressed. Leaving fullscreen with the
 * browser's own Escape leaves presentation mode too.
 */
export class PresentationController implements ReactiveController {
  on = false;
  /** Whether the browser granted fullscreen (false: the full-window layout alone). */
  fullscreen = false;
  private idleTimer = 0;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly left: () => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    for (const type of ['pointermove', 'pointerdown', 'keydown'])
      window.addEventListener(type, this.onActivity, { capture: true });
    document.addEventListener('fullscreenchange', this.onFullscreenChange);
  }

  hostDisconnected(): void {
    for (const type of ['pointermove', 'pointerdown', 'keydown'])
      window.removeEventListener(type, this.onActivity, { capture: true });
    document.removeEventListener('fullscreenchange', this.onFullscreenChange);
    clearTimeout(this.idleTimer);
  }

  /** Follows the `presentation` setting. */
  sync(on: boolean): void {
    if (on === this.on) return;
    this.on = on;
    this.host.toggleAttribute('presentation', on);
    if (on) {
      this.onActivity();
      void this.requestFullscreen();
    } else {
      clearTimeout(this.idleTimer);
      this.host.removeAttribute('idle');
      if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
      this.fullscreen = false;
    }
    this.host.requestUpdate();
  }

  private async requestFullscreen(): Promise<void> {
    try {
      await this.host.requestFullscreen({ navigationUI: 'hide' });
      this.fullscreen = this.on;
      // Left again before the browser answered.
      if (!this.on) await document.exitFullscreen().catch(() => undefined);
    } catch {
      // Refused (no user gesture, an iframe without permission, iOS Safari): the full-window layout stays.
      this.fullscreen = false;
    }
    this.host.requestUpdate();
  }

  private onActivity = (): void => {
    if (!this.on) return;
    this.host.removeAttribute('idle');
    clearTimeout(this.idleTimer);
    this.idleTimer = window.setTimeout(() => {
      if (this.on) this.host.setAttribute('idle', '');
    }, CONTROLS_SHOWN_MS);
  };

  private onFullscreenChange = (): void => {
    if (this.on && this.fullscreen && !document.fullscreenElement) {
      this.fullscreen = false;
      this.left();
    }
  };
}
