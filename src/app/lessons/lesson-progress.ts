import { LESSON_IDS, type LessonId } from './lesson-plan.js';

/** A picture kept on a lesson's board: the view with its map, and what the network said. */
export interface BoardPicture {
  /** A small JPEG, as a data URL (kept in local storage with the progress). */
  image: string;
  label: string;
  score: number;
  /** The method and layer of the map, as the view's caption names them. */
  method: string;
  /** When it was kept (ms since the epoch). */
  at: number;
}

/** Where a class is in a lesson, kept on the device so that a reload or a new visit resumes it. */
export interface LessonProgress {
  id: LessonId;
  step: number;
  board: BoardPicture[];
}

const KEY = 'whycam.lesson';

/** The lesson left on this device, or null (none, or storage this browser refuses or that holds something else). */
export function loadProgress(): LessonProgress | null {
  try {
    const raw = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Partial<LessonProgress> | null;
    if (!raw || !LESSON_IDS.includes(raw.id as LessonId) || !Number.isInteger(raw.step)) return null;
    const board = Array.isArray(raw.board)
      ? raw.board.filter((b): b is BoardPicture => typeof b?.image === 'string' && b.image.startsWith('data:image/'))
      : [];
    return { id: raw.id as LessonId, step: Math.max(0, raw.step!), board };
  } catch {
    return null;
  }
}

/**
 * Keeps the progress (null forgets it). When storage is full, the board's oldest pictures are
 * dropped until it fits; where storage is refused (private windows), the lesson still runs, unkept.
 */
export function saveProgress(progress: LessonProgress | null): void {
  try {
    if (!progress) return localStorage.removeItem(KEY);
    for (let board = progress.board; ; board = board.slice(1)) {
      try {
        localStorage.setItem(KEY, JSON.stringify({ ...progress, board }));
        return;
      } catch (e) {
        if (board.length === 0) throw e;
      }
    }
  } catch {
    // No storage here: nothing to keep the progress in.
  }
}
