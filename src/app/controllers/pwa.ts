import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { Pwa } from '../pwa.js';

/** The installable, offline side as state the page renders: online, offline-ready, installable, update waiting. */
export class PwaController implements ReactiveController {
  online = navigator.onLine;
  offlineReady = false;
  installable = false;
  updateReady = false;
  private readonly pwa: Pwa;

  constructor(
    private readonly host: ReactiveControllerHost,
    onUpdateReady: () => void,
  ) {
    host.addController(this);
    this.pwa = new Pwa({
      updateReady: () => {
        this.updateReady = true;
        onUpdateReady();
        this.changed();
      },
      installable: (available) => {
        this.installable = available;
        this.changed();
      },
      online: (online) => {
        this.online = online;
        this.changed();
      },
      offlineReady: () => {
        this.offlineReady = true;
        this.changed();
      },
    });
  }

  hostConnected(): void {
    this.pwa.start();
  }

  hostDisconnected(): void {
    this.pwa.stop();
  }

  install(): Promise<void> {
    return this.pwa.install();
  }

  applyUpdate(): void {
    this.pwa.applyUpdate();
  }

  checkForUpdate(): Promise<void> {
    return this.pwa.checkForUpdate();
  }

  private changed(): void {
    this.host.requestUpdate();
  }
}
