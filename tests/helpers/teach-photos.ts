import fs from 'node:fs';
import path from 'node:path';
import type { Box } from '../../src/explain/evaluation/metrics.js';

// Three classes a person could teach with a handful of photos each, made of ImageNet classes:
// dogs, birds and insects. Training photos come from imagenet-samples (one photo per ImageNet
// class); the photos that judge the taught model come from imagenet-val-bbox-300 (validation
// photos, with the object's boxes), so no photo is both taught and tested.

export const TAUGHT_CLASSES: readonly { name: string; imagenet: (i: number) => boolean }[] = [
  { name: 'dog', imagenet: (i) => i >= 151 && i <= 268 },
  { name: 'bird', imagenet: (i) => (i >= 7 && i <= 24) || (i >= 80 && i <= 100) || (i >= 127 && i <= 146) },
  { name: 'insect', imagenet: (i) => i >= 300 && i <= 326 },
];

function table(file: string): Record<string, string>[] {
  const [header, ...rows] = fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!])));
}

/** Up to `perClass` training photos of each taught class, in file order. */
export function trainingPhotos(shared: string, perClass: number): { file: string; label: number }[][] {
  const samples = path.join(shared, 'images', 'imagenet-samples');
  const rows = table(path.join(samples, 'labels.tsv'));
  return TAUGHT_CLASSES.map((c, label) =>
    rows
      .filter((r) => c.imagenet(Number(r['class_index'])))
      .slice(0, perClass)
      .map((r) => ({ file: path.join(samples, r['file']!), label })),
  );
}

/** Up to `perClass` validation photos of each taught class with the object's boxes (in the 227×227 pixels of the files). */
export function boxedPhotos(shared: string, perClass: number): { file: string; label: number; boxes: Box[] }[] {
  const val = path.join(shared, 'images', 'imagenet-val-bbox-300');
  const rows = table(path.join(val, 'labels.tsv'));
  return TAUGHT_CLASSES.flatMap((c, label) =>
    rows
      .filter((r) => c.imagenet(Number(r['class_index'])))
      .slice(0, perClass)
      .map((r) => ({
        file: path.join(val, r['file']!),
        label,
        boxes: (JSON.parse(r['boxes_xyxy_227']!) as number[][]).map(roundBox),
      })),
  );
}

function roundBox([x0, y0, x1, y1]: number[]): Box {
  return [Math.round(x0!), Math.round(y0!), Math.round(x1!), Math.round(y1!)];
}
