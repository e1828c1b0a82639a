import { isWhyCamError } from '../src/explain/errors.js';
import type { ErrorMessage } from '../src/protocol.js';
import type { Post } from './service-types.js';

/** An error as the page is told it: WhyCam's own errors with their code and hint, anything else as internal. */
export function describeError(e: unknown, fatal: boolean): ErrorMessage {
  return isWhyCamError(e)
    ? { type: 'error', code: e.code, message: e.message.split('\n')[0]!, hint: e.hint ?? null, fatal }
    : { type: 'error', code: 'internal', message: (e as Error)?.message ?? String(e), hint: null, fatal };
}

/** Reports errors to the page: a repeated non-fatal one only once (once per cause, not once per frame). */
export class ErrorReporter {
  private last = '';

  constructor(private readonly post: Post) {}

  /** Reports the error (unless it repeats the last non-fatal one) and returns it. */
  fail(e: unknown, fatal: boolean): ErrorMessage {
    const message = describeError(e, fatal);
    const key = `${message.code}:${message.message}`;
    if (fatal || key !== this.last) this.post(message);
    this.last = key;
    return message;
  }

  /** Something changed (settings): the same error is worth reporting again. */
  forget(): void {
    this.last = '';
  }
}
