import fs from 'node:fs';
import type { WhyCamStatus } from '../../src/app/automation.js';

/**
 * Polls the app's status (`read`, in whichever browser) until `check` holds, and returns that
 * status; on timeout the error shows the last status seen. `read` answers null while a reload
 * replaces the page.
 */
export async function pollStatus(
  read: () => Promise<WhyCamStatus | null>,
  check: (s: WhyCamStatus) => boolean,
  what: string,
  timeout = 90_000,
): Promise<WhyCamStatus> {
  const end = Date.now() + timeout;
  let last: WhyCamStatus | null = null;
  while (Date.now() < end) {
    last = await read().catch(() => null);
    if (last && check(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `Timed out waiting for ${what}; last status: ${JSON.stringify({ ...last, heatmap: undefined, layers: undefined, recent: undefined })}`,
  );
}

/** A photo's bytes for a page (base64) with its type, as a drop or paste would hand them to `openImage`. */
export function photoPayload(file: string): { base64: string; type: string } {
  return { base64: fs.readFileSync(file).toString('base64'), type: file.endsWith('.png') ? 'image/png' : 'image/jpeg' };
}
