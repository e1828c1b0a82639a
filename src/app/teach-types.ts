import type { ClassReport } from '../explain/models/taught-format.js';
import type { TeachReport } from '../explain/teach/teach-report.js';
import type { TeachProgressMessage } from '../protocol.js';
import type { StoredModel } from './model-store.js';

// What the teach panel and the teach controller share: the panel renders a TeachView (properties
// down) and asks with TeachActions (events up).

export const MIN_CLASSES = 2;
export const MAX_CLASSES = 8;

export interface TeachExample {
  id: number;
  /**
   * A small picture of the example (a blob: URL, '' until it is encoded); the example itself lives
   * only in the worker, as features.
   */
  thumb: string;
  state: 'pending' | 'ok' | 'failed';
}

export interface TeachClass {
  key: number;
  name: string;
  examples: TeachExample[];
}

/** A kept model as the list shows it (its zip stays in IndexedDB). */
export type StoredSummary = Omit<StoredModel, 'zip'>;

/** The teaching state the panel shows. */
export interface TeachView {
  open: boolean;
  classes: readonly TeachClass[];
  /** The class being recorded into while its button is held. */
  recording: number | null;
  progress: Omit<TeachProgressMessage, 'type'> | null;
  result: { name: string; accuracy: number | null; classes: ClassReport[]; trainMs: number } | null;
  /** The held-back examples of the latest training: confusion matrix and maps. */
  report: TeachReport | null;
  thumbOf(exampleId: number): string;
}

/** What the panel asks of the teach and model-library controllers (events up). */
export type TeachAction =
  | { op: 'toggle' }
  | { op: 'add-class' }
  | { op: 'remove-class'; key: number }
  | { op: 'rename'; key: number; name: string }
  | { op: 'record'; key: number; on: boolean }
  | { op: 'photos'; key: number; files: File[] }
  | { op: 'remove-example'; key: number; id: number }
  | { op: 'train'; name: string }
  | { op: 'reset' }
  | { op: 'open-files'; files: File[] }
  | { op: 'use'; name: string }
  | { op: 'export'; name: string }
  | { op: 'delete'; name: string };

/** The actions about kept models, which the model library answers. */
export type LibraryAction = Extract<TeachAction, { op: 'open-files' | 'use' | 'export' | 'delete' }>;

export function isLibraryAction(a: TeachAction): a is LibraryAction {
  return a.op === 'open-files' || a.op === 'use' || a.op === 'export' || a.op === 'delete';
}
