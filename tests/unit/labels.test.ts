import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { IMAGENET_LABELS, LabelSet } from '../../src/explain/network/labels.js';
import { SHARED } from '../helpers/shared.js';

describe('ImageNet labels', () => {
  const rows = fs
    .readFileSync(path.join(SHARED, 'labels', 'imagenet_class_index.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'));

  test('come from @tensorflow-models/mobilenet in the standard class order', () => {
    expect(rows).toHaveLength(1000);
    expect(IMAGENET_LABELS.size).toBe(1000);
    const mismatches = rows.filter(([index, , , synonyms]) => IMAGENET_LABELS.long[Number(index)] !== synonyms);
    expect(mismatches).toEqual([]);
  });

  test('display labels are the first synonym', () => {
    expect(IMAGENET_LABELS.label(207)).toBe('golden retriever');
    expect(IMAGENET_LABELS.label(0)).toBe('tench');
    expect(IMAGENET_LABELS.label(999)).toBe('toilet tissue');
    // The shared table's short names (from PyTorch Hub) agree but for one spelling.
    const differing = rows
      .filter(([index, , name]) => IMAGENET_LABELS.label(Number(index)) !== name)
      .map(([i, , name]) => `${i} ${name}`);
    expect(differing).toEqual(['107 jellyfish']);
    expect(IMAGENET_LABELS.label(107)).toBe('jelly fish');
  });

  test('resolve indices, labels and synonyms, and refuse unknown or ambiguous names with suggestions', () => {
    expect(IMAGENET_LABELS.resolve('207')).toBe(207);
    expect(IMAGENET_LABELS.resolve(' Golden Retriever ')).toBe(207);
    expect(IMAGENET_LABELS.resolve('Tinca tinca')).toBe(0);
    expect(() => IMAGENET_LABELS.resolve('1000')).toThrow(/out of range/);
    expect(() => IMAGENET_LABELS.resolve('golden retreiver')).toThrow(
      /Unknown class label[\s\S]*Did you mean: golden retriever \(207\)\?/,
    );
    expect(() => IMAGENET_LABELS.resolve('xyzzy plugh')).toThrow(/Give a class index 0-999/);
    expect(() => IMAGENET_LABELS.resolve('retriever')).toThrow(/Did you mean: .*golden retriever \(207\)/);
    expect(() => IMAGENET_LABELS.resolve('crane')).toThrow(/ambiguous[\s\S]*134[\s\S]*517/);
  });

  test('search ranks display-label matches first', () => {
    const labels = new LabelSet(['cat, feline', 'dog, canine', 'catamaran']);
    expect(labels.search('cat')).toEqual([0, 2]);
    expect(labels.search('canine')).toEqual([1]);
    expect(labels.search('  ')).toEqual([]);
  });
});
