import { interpolateInferno, interpolateTurbo, interpolateViridis } from 'd3-scale-chromatic';

export type ColormapName = 'jet' | 'turbo' | 'viridis' | 'inferno' | 'gray';
export const COLORMAPS: readonly ColormapName[] = ['jet', 'turbo', 'viridis', 'inferno', 'gray'];

/** 256 RGB entries, `table[3 * i + channel]`, for values i / 255. */
type ColormapTable = Uint8Array;

/** MATLAB's `jet(256)`, built exactly as MATLAB builds it. */
function jet(m = 256): ColormapTable {
  const n = Math.ceil(m / 4);
  const u = [
    ...Array.from({ length: n }, (_, i) => (i + 1) / n),
    ...Array.from({ length: n - 1 }, () => 1),
    ...Array.from({ length: n }, (_, i) => (n - i) / n),
  ];
  const g0 = Math.ceil(n / 2) - (m % 4 === 1 ? 1 : 0);
  const out = new Float64Array(m * 3);
  u.forEach((value, k) => {
    const g = g0 + k + 1; // 1-based row indices, as in MATLAB
    const r = g + n;
    if (r <= m) out[(r - 1) * 3] = value;
    if (g <= m) out[(g - 1) * 3 + 1] = value;
  });
  const blueRows = u.map((_, k) => g0 + k + 1 - n).filter((b) => b >= 1);
  const blueValues = u.slice(u.length - blueRows.length);
  blueRows.forEach((b, k) => {
    out[(b - 1) * 3 + 2] = blueValues[k]!;
  });
  return Uint8Array.from(out, (v) => Math.round(v * 255));
}

/**
 * Matplotlib's viridis and inferno (d3's copies of the 256 published colours) and Google's Turbo
 * (its published polynomial approximation, as d3 ships it).
 */
function fromInterpolator(interpolate: (t: number) => string): ColormapTable {
  const out = new Uint8Array(768);
  for (let i = 0; i < 256; i++) {
    // d3 answers "#rrggbb" for its tables and "rgb(r, g, b)" for its polynomials.
    const colour = interpolate(i / 255);
    const channels = colour.startsWith('#')
      ? [1, 3, 5].map((k) => parseInt(colour.slice(k, k + 2), 16))
      : colour.match(/\d+/g)!.map(Number);
    out.set(channels.slice(0, 3), i * 3);
  }
  return out;
}

function gray(): ColormapTable {
  return Uint8Array.from({ length: 768 }, (_, k) => Math.floor(k / 3));
}

export const COLORMAP_TABLES: Readonly<Record<ColormapName, ColormapTable>> = {
  jet: jet(),
  turbo: fromInterpolator(interpolateTurbo),
  viridis: fromInterpolator(interpolateViridis),
  inferno: fromInterpolator(interpolateInferno),
  gray: gray(),
};
