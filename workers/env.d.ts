/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Fingerprint of the shipped model files (vite.config.ts): names the service worker's model cache. */
  readonly VITE_MODELS_VERSION?: string;
  readonly VITE_APP_VERSION?: string;
  /** Distinguishes builds of the same version (shown in the app, and what makes an update an update). */
  readonly VITE_BUILD_ID?: string;
}
