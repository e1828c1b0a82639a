import type { Normalization } from '../explain/network/normalization.js';
import type { PickedOrigin } from '../protocol.js';

/**
 * Models kept on this device (IndexedDB): taught models, opened Teachable Machine exports and the
 * user's own Keras models, each as the zip of its files, under its name. Teaching examples are
 * never stored here.
 */
export interface StoredModel {
  name: string;
  origin: PickedOrigin;
  labels: string[];
  savedAt: number;
  zip: Blob;
  /**
   * An own model's input normalisation as the user gave it, so that reopening it (after a worker
   * restart, on the next visit) reads the pictures the same way; absent: none was given (assumed,
   * as when it was opened), and for every model kept before there were own models.
   */
  normalize?: Normalization;
}

const DB_NAME = 'whycam';
const STORE = 'models';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'name' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB could not be opened'));
  });
}

async function run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = work(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    db.close();
  }
}

export const modelStore = {
  save: (model: StoredModel): Promise<IDBValidKey> => run('readwrite', (s) => s.put(model)),
  get: (name: string): Promise<StoredModel | undefined> =>
    run('readonly', (s) => s.get(name) as IDBRequest<StoredModel | undefined>),
  remove: (name: string): Promise<undefined> => run('readwrite', (s) => s.delete(name)),
  /** Every stored model, without loading their zips into memory more than IndexedDB does. */
  list: async (): Promise<StoredModel[]> =>
    (await run('readonly', (s) => s.getAll() as IDBRequest<StoredModel[]>)).sort((a, b) =>
      a.name.localeCompare(b.name),
    ),
};

/** The model select's value for a stored model (registered models use their id). */
const STORED_PREFIX = 'stored:';
export const storedModelId = (name: string): string => `${STORED_PREFIX}${name}`;
export const storedModelName = (id: string): string | null =>
  id.startsWith(STORED_PREFIX) ? id.slice(STORED_PREFIX.length) : null;
