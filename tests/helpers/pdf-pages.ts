import zlib from 'node:zlib';

/**
 * The page sizes (points) of a PDF as a browser prints it: the /MediaBox of each page, read from
 * the file and from its Flate-compressed streams (Firefox keeps its page objects in object streams).
 */
export function pdfPageSizes(pdf: Buffer): [number, number][] {
  const raw = pdf.toString('latin1');
  let text = raw;
  for (const m of raw.matchAll(/stream\r?\n/g)) {
    const start = m.index + m[0].length;
    const end = raw.indexOf('endstream', start);
    if (end < 0) continue;
    try {
      text += zlib.inflateSync(pdf.subarray(start, end)).toString('latin1');
    } catch {
      // Not a Flate stream (an image, say), or not compressed.
    }
  }
  return [...text.matchAll(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

/** A4 in points (210 × 297 mm at 72 points an inch), within a point of rounding. */
export function isA4([width, height]: [number, number]): boolean {
  return Math.abs(width - 595.28) < 1 && Math.abs(height - 841.89) < 1;
}
