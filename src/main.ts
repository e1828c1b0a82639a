import { startLocalization } from './app/i18n/locale.js';

// The language is settled before the app is defined, so that its first render is already in it.
await startLocalization();
await import('./app/whycam-app.js');
