/** Why an operation was refused; `code` lets callers (CLI exit codes, UI messages) react without parsing text. */
export type WhyCamErrorCode =
  | 'bad-image'
  | 'bad-option'
  | 'unknown-class'
  | 'unknown-layer'
  | 'layer-not-cuttable'
  | 'method-unavailable'
  | 'unsupported-model'
  | 'model-missing'
  | 'model-corrupt'
  | 'network';

/**
 * An error meant for a person: `message` names the problem, `hint` says how to get past it
 * (the valid choices, or the command that fixes it).
 */
export class WhyCamError extends Error {
  readonly code: WhyCamErrorCode;
  readonly hint: string | undefined;

  constructor(code: WhyCamErrorCode, message: string, hint?: string) {
    super(hint ? `${message}\n${hint}` : message);
    this.name = 'WhyCamError';
    this.code = code;
    this.hint = hint;
  }
}

export function isWhyCamError(e: unknown): e is WhyCamError {
  return e instanceof Error && e.name === 'WhyCamError' && 'code' in e;
}
