/** WhyCam's explanation engine: plain TypeScript over tfjs-core, with no DOM and no backend assumptions. */
export * from './colormaps.js';
export * from './errors.js';
export * from './explainer.js';
export * from './heatmap.js';
export * from './input.js';
export * from './labels.js';
export * from './methods.js';
export * from './metrics.js';
export * from './model-files.js';
export * from './network.js';
export * from './overlay.js';
export * from './preprocess.js';
export * from './registered-model.js';
