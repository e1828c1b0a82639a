import { Workbox } from 'workbox-window';

interface InstallPromptEvent extends Event {
  prompt(): Promise<void>;
  userChoice: Promise<{ outcome: 'accepted' | 'dismissed' }>;
}

interface PwaEvents {
  /** A new version has been downloaded and waits for the user's go-ahead. */
  updateReady(): void;
  /** The browser offers (or no longer offers) to install the app. */
  installable(available: boolean): void;
  online(online: boolean): void;
  /** The service worker controls the page: everything needed offline is cached. */
  offlineReady(): void;
}

/**
 * The installable, offline side of the app: registers the service worker (production builds),
 * relays the browser's install offer, connectivity, and "a new version is ready".
 */
export class Pwa {
  private workbox: Workbox | null = null;
  private installPrompt: InstallPromptEvent | null = null;
  private probeTimer = 0;
  private online = true;

  constructor(private readonly events: PwaEvents) {}

  start(): void {
    window.addEventListener('beforeinstallprompt', this.onInstallPrompt);
    window.addEventListener('appinstalled', this.onInstalled);
    window.addEventListener('online', this.onConnectivity);
    window.addEventListener('offline', this.onConnectivity);
    void this.probe();
    if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
    const wb = new Workbox(`${import.meta.env.BASE_URL}sw.js`, { scope: import.meta.env.BASE_URL });
    wb.addEventListener('waiting', () => this.events.updateReady());
    wb.addEventListener('controlling', () => this.events.offlineReady());
    wb.addEventListener('activated', (e) => {
      if (!e.isUpdate) this.events.offlineReady();
    });
    this.workbox = wb;
    void wb
      .register()
      .then((registration) => {
        if (registration?.active && navigator.serviceWorker.controller) this.events.offlineReady();
      })
      .catch(() => undefined);
  }

  stop(): void {
    window.removeEventListener('beforeinstallprompt', this.onInstallPrompt);
    window.removeEventListener('appinstalled', this.onInstalled);
    window.removeEventListener('online', this.onConnectivity);
    window.removeEventListener('offline', this.onConnectivity);
    clearTimeout(this.probeTimer);
  }

  async install(): Promise<void> {
    const prompt = this.installPrompt;
    if (!prompt) return;
    this.installPrompt = null;
    this.events.installable(false);
    await prompt.prompt();
  }

  /** Switches to the waiting version; the page reloads once it has taken over. */
  applyUpdate(): void {
    if (!this.workbox) return;
    // Listen first: the new worker takes control as soon as it is told to skip waiting.
    navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true });
    this.workbox.messageSkipWaiting();
  }

  /** Asks the server whether there is a newer version (also done by the browser on navigation). */
  async checkForUpdate(): Promise<void> {
    await this.workbox?.update();
  }

  private onInstallPrompt = (e: Event): void => {
    e.preventDefault();
    this.installPrompt = e as InstallPromptEvent;
    this.events.installable(true);
  };

  private onInstalled = (): void => {
    this.installPrompt = null;
    this.events.installable(false);
  };

  private onConnectivity = (): void => {
    void this.probe();
  };

  /**
   * Whether this app's server answers: `navigator.onLine` only knows about the network interface
   * (and is wrong after reloads under emulation), so a tiny uncached request decides. It goes to
   * this origin only; the query string keeps it out of the service worker's cache.
   */
  private async probe(): Promise<void> {
    clearTimeout(this.probeTimer);
    let online = navigator.onLine;
    if (online) {
      try {
        const response = await fetch(`${import.meta.env.BASE_URL}manifest.webmanifest?online-check=${Date.now()}`, {
          method: 'HEAD',
          cache: 'no-store',
        });
        online = response.ok || response.status < 500;
      } catch {
        online = false;
      }
    }
    if (online !== this.online) {
      this.online = online;
      this.events.online(online);
    }
    this.probeTimer = window.setTimeout(() => void this.probe(), online ? 60_000 : 10_000);
  }
}
