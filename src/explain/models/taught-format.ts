/**
 * The portable form of a model taught in WhyCam: the three files of a Teachable Machine export
 * (the head only) plus a `whycam` field in metadata.json naming the base model. Read here by the
 * importer; written by teach/taught-model-files.ts.
 */
import { WhyCamError } from '../errors.js';

export interface ClassReport {
  name: string;
  trained: number;
  heldBack: number;
  /** Held-back examples of this class classified correctly, or null when none were held back. */
  correct: number | null;
}

/** The layer name of a taught head; its weights are `whycam_head/kernel` and `whycam_head/bias`. */
export const HEAD_LAYER = 'whycam_head';

/** What `metadata.json` of a taught model adds to Teachable Machine's fields. */
export interface TaughtMetadata {
  format: 1;
  /** The registered model whose pooled features the head reads. */
  baseModel: string;
  /** Its global average pooling layer. */
  baseLayer: string;
  accuracy: number | null;
  classes: ClassReport[];
}

/** The bytes of each file (backed by plain ArrayBuffers, so that they make Blobs and Files as they are). */
export interface ModelFiles {
  'model.json': Uint8Array<ArrayBuffer>;
  'weights.bin': Uint8Array<ArrayBuffer>;
  'metadata.json': Uint8Array<ArrayBuffer>;
}

/** The WhyCam part of a metadata.json, or null for a Teachable Machine export. */
export function taughtMetadata(raw: Record<string, unknown>, location: string): TaughtMetadata | null {
  const w = raw['whycam'];
  if (w === undefined) return null;
  const m = w as Partial<TaughtMetadata>;
  if (
    typeof m !== 'object' ||
    m === null ||
    m.format !== 1 ||
    typeof m.baseModel !== 'string' ||
    typeof m.baseLayer !== 'string'
  ) {
    throw new WhyCamError(
      'model-corrupt',
      `${location}/metadata.json names no base model in a form this WhyCam reads.`,
      'Export the taught model again from WhyCam.',
    );
  }
  return m as TaughtMetadata;
}
