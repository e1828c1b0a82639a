import { IMAGENET_CLASSES } from '@tensorflow-models/mobilenet/dist/imagenet_classes.js';
import { WhyCamError } from '../errors.js';

/**
 * Class names for a classifier. Each class has a long name made of comma-separated synonyms
 * ("golden retriever", "tench, Tinca tinca"); the first synonym is the display label.
 */
export class LabelSet {
  readonly long: readonly string[];
  readonly short: readonly string[];

  constructor(longNames: readonly string[]) {
    this.long = longNames;
    this.short = longNames.map((n) => n.split(',')[0]!.trim());
  }

  get size(): number {
    return this.long.length;
  }

  label(classIndex: number): string {
    return this.short[classIndex] ?? `class ${classIndex}`;
  }

  /**
   * Turns what a person typed into a class index: an index ("207"), a display label or any
   * synonym, case-insensitive. Ambiguous or unknown names are refused with the candidates.
   */
  resolve(query: string | number): number {
    if (typeof query === 'number' || /^\s*\d+\s*$/.test(query)) {
      const index = Number(query);
      if (!Number.isInteger(index) || index < 0 || index >= this.size) {
        throw new WhyCamError(
          'unknown-class',
          `Class index ${query} is out of range.`,
          `Valid class indices are 0 to ${this.size - 1}.`,
        );
      }
      return index;
    }
    const wanted = query.trim().toLowerCase();
    const exact: number[] = [];
    for (let i = 0; i < this.size; i++) {
      const synonyms = this.long[i]!.split(',').map((s) => s.trim().toLowerCase());
      if (synonyms.includes(wanted)) exact.push(i);
    }
    if (exact.length === 1) return exact[0]!;
    if (exact.length > 1) {
      throw new WhyCamError(
        'unknown-class',
        `Class label "${query}" is ambiguous.`,
        `It names ${exact.map((i) => `${i} (${this.long[i]})`).join(' and ')}; give the index instead.`,
      );
    }
    const near = this.suggest(wanted, 6);
    throw new WhyCamError(
      'unknown-class',
      `Unknown class label "${query}".`,
      near.length > 0
        ? `Did you mean: ${near.map((i) => `${this.short[i]} (${i})`).join(', ')}?`
        : 'Give a class index 0-999 or an ImageNet class name such as "golden retriever".',
    );
  }

  /** Classes whose names contain the query, else whose synonyms are a few typos away from it. */
  suggest(query: string, limit: number): number[] {
    const found = this.search(query, limit);
    if (found.length > 0) return found;
    const q = query.trim().toLowerCase();
    const budget = Math.max(2, Math.floor(q.length / 4));
    const scored: [number, number][] = [];
    for (let i = 0; i < this.size; i++) {
      const distance = Math.min(...this.long[i]!.split(',').map((s) => editDistance(q, s.trim().toLowerCase())));
      if (distance <= budget) scored.push([distance, i]);
    }
    return scored
      .sort((a, b) => a[0] - b[0])
      .slice(0, limit)
      .map(([, i]) => i);
  }

  /** Indices whose names contain `text`, display-label matches first: for search boxes. */
  search(text: string, limit = 20): number[] {
    const q = text.trim().toLowerCase();
    if (q === '') return [];
    const first: number[] = [];
    const rest: number[] = [];
    for (let i = 0; i < this.size; i++) {
      if (this.short[i]!.toLowerCase().includes(q)) first.push(i);
      else if (this.long[i]!.toLowerCase().includes(q)) rest.push(i);
    }
    return [...first, ...rest].slice(0, limit);
  }
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The 1000 ImageNet-1k classes in the standard index order, as `@tensorflow-models/mobilenet` ships them. */
export const IMAGENET_LABELS: LabelSet = new LabelSet(Array.from({ length: 1000 }, (_, i) => IMAGENET_CLASSES[i]!));
