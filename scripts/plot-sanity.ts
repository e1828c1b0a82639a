/**
 * Draws the randomisation sanity check (`whycam sanity --json`) as a small SVG line chart: each
 * method's mean Spearman ρ against how far down the network has been re-initialised.
 *   npx tsc -p tsconfig.tools.json --noEmit false --outDir /tmp/tools --rootDir . &&
 *   node /tmp/tools/scripts/plot-sanity.js docs/sanity-15.json docs/sanity-15.svg
 */
import fs from 'node:fs';

interface SanityReport {
  methods: Record<string, { blocks: string[]; spearman: number[] }>;
}

const COLOURS = [
  '#d62728',
  '#1f77b4',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
  '#000000',
  '#aec7e8',
  '#ffbb78',
];
const METHOD_COLOURS: Record<string, string> = {
  cam: '#7f7f7f',
  gradcam: '#1f77b4',
  'gradcam++': '#ff7f0e',
  layercam: '#d62728',
  hirescam: '#2ca02c',
};
const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: plot-sanity REPORT.json OUT.svg');
  process.exit(2);
}
const report = JSON.parse(fs.readFileSync(input, 'utf8')) as SanityReport;
const entries = Object.entries(report.methods);
const blocks = entries[0]![1].blocks;
const [w, h, left, right, top, bottom] = [720, 360, 48, 210, 16, 64];
const x = (i: number): number => left + (i * (w - left - right)) / (blocks.length - 1);
const y = (rho: number): number => top + ((1 - rho) * (h - top - bottom)) / 1.4; // ρ from 1 down to −0.4
const parts: string[] = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">`,
  `<rect width="${w}" height="${h}" fill="white"/>`,
];
for (const rho of [1, 0.5, 0, -0.4]) {
  parts.push(
    `<line x1="${left}" x2="${w - right}" y1="${y(rho)}" y2="${y(rho)}" stroke="${rho === 0 ? '#999' : '#ddd'}"/>`,
    `<text x="${left - 6}" y="${y(rho) + 4}" text-anchor="end">${rho}</text>`,
  );
}
blocks.forEach((b, i) => {
  parts.push(
    `<text transform="translate(${x(i) + 4},${h - bottom + 8}) rotate(60)" font-size="10">${b.replace('block ', 'b')}</text>`,
  );
});
parts.push(
  `<text x="${left}" y="${h - 6}" font-size="11">re-initialised from the logits down to … (left: the top only; right: everything)</text>`,
  `<text transform="translate(12,${(h - bottom + top) / 2}) rotate(-90)" text-anchor="middle">Spearman ρ with the real map</text>`,
);
entries.forEach(([name, { spearman }], k) => {
  // One colour per method, the same at every layer (the dash tells the layers apart).
  const method = name.split('@')[0]!;
  const colour = METHOD_COLOURS[method] ?? COLOURS[k % COLOURS.length]!;
  const dash = name.includes('conv_pw_13')
    ? ''
    : name.includes('conv_pw_11')
      ? ' stroke-dasharray="6 3"'
      : ' stroke-dasharray="2 2"';
  const points = spearman.map((rho, i) => `${x(i).toFixed(1)},${y(rho).toFixed(1)}`).join(' ');
  parts.push(`<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="1.6"${dash}/>`);
  parts.push(
    `<line x1="${w - right + 12}" x2="${w - right + 36}" y1="${top + 8 + k * 16}" y2="${top + 8 + k * 16}" stroke="${colour}" stroke-width="2"${dash}/>`,
    `<text x="${w - right + 40}" y="${top + 12 + k * 16}">${name}</text>`,
  );
});
parts.push('</svg>');
fs.writeFileSync(output, `${parts.join('\n')}\n`);
console.log(`wrote ${output}`);
