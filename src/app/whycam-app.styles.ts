import { css } from 'lit';

/**
 * The app root's layout: notices, the view (or two side by side) beside the sidebar, stacked on narrow
 * screens; presentation mode, where the picture fills the screen and the sidebar floats over it while
 * the pointer moves; presentation mode on a phone held upright, the picture above the predictions; and print, the lesson's worksheet alone.
 */
export const appStyles = css`
  :host { display: block; min-height: 100vh; background: var(--bg, #0b0e14); color: var(--text, #e8e8e8);
    font: 16px/1.45 system-ui, -apple-system, Segoe UI, Roboto, sans-serif; --accent: #ffcc00; --panel: #141923; --panel-2: #1d2330; --track: #333b4a; }
  .stage { position: relative; display: grid; gap: 0.5rem; align-items: start; --view-max-height: calc(100vh - 5rem); }
  .stage.pair { grid-template-columns: 1fr 1fr; }
  :host([presentation]) { font-size: 22px; --bg: #000; --text: #fff; --panel: #000; --panel-2: #111; --track: #888; --accent: #ffff00;
    --label-size: clamp(1.4rem, 3.4vw, 3.2rem); --hud-line-size: clamp(1rem, 2vw, 1.9rem); }
  :host([presentation]) whycam-header, :host([presentation]) footer { display: none; }
  :host([presentation]) main { display: block; padding: 0; }
  :host([presentation]) .stage { position: fixed; inset: 0; z-index: 1; background: #000; align-items: center; gap: 0.3rem; --view-max-height: 100vh; }
  :host([presentation]) whycam-live-view { border-radius: 0; }
  :host([presentation]) aside { position: fixed; z-index: 2; top: 0; right: 0; bottom: 0; width: min(26rem, 92vw); overflow: auto; align-content: start;
    padding: 0.6rem; box-sizing: border-box; background: rgba(0, 0, 0, 0.82); font-size: 18px; transition: opacity 0.3s; }
  :host([presentation][idle]) aside { opacity: 0; pointer-events: none; }
  :host([presentation][idle]) { cursor: none; }
  :host([presentation]) .notices { position: fixed; z-index: 3; top: 0.5rem; left: 0.5rem; right: 0.5rem; padding: 0; }
  @media (orientation: portrait) {
    :host([presentation]) { --label-size: clamp(1.2rem, 6vw, 2.2rem); --hud-line-size: clamp(0.8rem, 3.6vw, 1.3rem); }
    :host([presentation]) main { position: fixed; inset: 0; display: flex; flex-direction: column; align-items: stretch; background: #000; }
    :host([presentation]) .stage { position: static; flex: none; --view-max-height: 58vh; }
    :host([presentation]) .stage.pair { grid-template-columns: 1fr; --view-max-height: 34vh; }
    :host([presentation]) aside { position: static; flex: 1; width: auto; background: #000; font-size: 20px; }
    :host([presentation][idle]) aside { opacity: 1; pointer-events: auto; }
    :host([presentation][idle]) aside section:not(:first-child) { display: none; }
  }
  .notices { display: grid; gap: 0.5rem; padding: 0 1rem 0.5rem; }
  main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(17rem, 24rem); gap: 1rem; padding: 0 1rem 1rem; align-items: start; }
  aside { display: grid; gap: 0.8rem; }
  section { background: var(--panel); border-radius: 0.5rem; padding: 0.7rem 0.9rem; }
  h2 { margin: 0 0 0.5rem; font-size: 1em; opacity: 0.8; text-transform: uppercase; letter-spacing: 0.04em; }
  whycam-live-view { border-radius: 0.5rem; overflow: hidden; }
  .drop { outline: 3px dashed var(--accent); }
  footer { padding: 0 1rem 1rem; opacity: 0.6; font-size: 0.85em; }
  whycam-worksheet { display: none; }
  @media print {
    :host { background: #fff; color: #000; min-height: 0; }
    whycam-header, main, footer, .notices, whycam-help { display: none !important; }
    whycam-worksheet { display: block; }
  }
  @media (max-width: 52rem) { main { grid-template-columns: 1fr; } .stage { --view-max-height: 70vh; } }
`;
