// The elements the app root renders, defined once by importing them.
import './app-header.js';
import './controls.js';
import './help-overlay.js';
import './hud.js';
import './live-view.js';
import './notice.js';
import './prediction-list.js';
import './teach-panel.js';
import './hud-line.js';
import './perturbation-panel.js';
import './lesson-card.js';
import './lesson-menu.js';
import './worksheet.js';
