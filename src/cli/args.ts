import { parseArgs, type ParseArgsConfig } from 'node:util';
import { WhyCamError } from '../explain/errors.js';
import { type DefaultView, METHOD_NAMES } from '../explain/methods/names.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `util.parseArgs` with its errors turned into messages that show the command's usage. */
export function parseCommand<O extends Options>(args: string[], options: O, usage: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new WhyCamError('bad-option', (e as Error).message.replace(/\. To specify.*$/s, '.'), usage);
  }
}

export function oneOf<T extends string>(
  value: string | undefined,
  valid: readonly T[],
  option: string,
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(valid as readonly string[]).includes(value)) {
    throw new WhyCamError('bad-option', `${option} ${value} is not valid.`, `Valid values: ${valid.join(', ')}.`);
  }
  return value as T;
}

export function listOf<T extends string>(
  value: string | undefined,
  valid: readonly T[],
  option: string,
  fallback: readonly T[],
): T[] {
  if (value === undefined) return [...fallback];
  return value.split(',').map((v) => oneOf(v.trim(), valid, option, valid[0]!));
}

export function numberIn(
  value: string | undefined,
  option: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new WhyCamError('bad-option', `${option} ${value} is not valid.`, `Give a number from ${min} to ${max}.`);
  }
  return n;
}

/** "LayerCAM at conv_pw_9_relu, logit". */
export function viewText(view: DefaultView): string {
  return `${METHOD_NAMES[view.method]} at ${view.layer}, ${view.reduction}`;
}
