/**
 * Protocol Buffers text format (what Caffe's `deploy.prototxt` is) parsed without a schema into
 * a plain tree. Without the schema a value's type is what its spelling says: numbers, strings
 * ("…" / '…', adjacent ones joined) and identifiers (enum values, `true`, `inf`) kept as strings;
 * every field is an array because any field may repeat. Strict: anything else names its line and
 * column, so a damaged file is reported rather than half-read.
 */
import { WhyCamError } from '../../errors.js';

export type PbValue = number | string | PbMessage;

/** A message: field name → its values in file order. Has no prototype, so no field name is special. */
export interface PbMessage {
  [field: string]: PbValue[];
}

interface Token {
  kind: 'ident' | 'number' | 'string' | 'punct' | 'end';
  text: string;
  /** The number of a 'number' token, the decoded text of a 'string' one. */
  value: number | string;
  line: number;
  column: number;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
// Decimal (with fraction and exponent), or hex / octal integers; a trailing f / F is allowed for floats.
const NUMBER = /(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?)/y;
const PUNCT = new Set(['{', '}', '<', '>', '[', ']', ':', ',', ';', '-']);
const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '?': '?',
};

class Parser {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  private token: Token;

  constructor(
    private readonly text: string,
    private readonly where: string,
  ) {
    this.token = this.next();
  }

  fail(message: string, at: { line: number; column: number } = this.token): never {
    throw new WhyCamError('model-corrupt', `${this.where}, line ${at.line}, column ${at.column}: ${message}`);
  }

  /** The file's top-level message; it ends only at the end of the text. */
  parseFile(): PbMessage {
    const message = this.parseFields();
    if (this.token.kind !== 'end') this.fail(`unexpected ${describe(this.token)}.`);
    return message;
  }

  private parseFields(): PbMessage {
    const message = Object.create(null) as PbMessage;
    while (this.token.kind === 'ident') {
      const name = this.token.text;
      this.advance();
      const values = (message[name] ??= []);
      if (this.isPunct(':')) {
        this.advance();
        if (this.isPunct('[')) this.parseList(values);
        else values.push(this.parseValue(name));
      } else if (this.isPunct('{') || this.isPunct('<')) {
        // The colon is optional before a message.
        values.push(this.parseMessage());
      } else {
        this.fail(`expected ":" or "{" after "${name}", found ${describe(this.token)}.`);
      }
      if (this.isPunct(';') || this.isPunct(',')) this.advance();
    }
    return message;
  }

  private parseMessage(): PbMessage {
    const open = this.token;
    const close = open.text === '{' ? '}' : '>';
    this.advance();
    const message = this.parseFields();
    if (this.token.kind === 'end')
      this.fail(`the "${open.text}" of line ${open.line}, column ${open.column} is never closed.`);
    if (!this.isPunct(close)) this.fail(`expected a field name or "${close}", found ${describe(this.token)}.`);
    this.advance();
    return message;
  }

  private parseList(values: PbValue[]): void {
    this.advance();
    if (this.isPunct(']')) {
      this.advance();
      return;
    }
    for (;;) {
      values.push(this.parseValue('list'));
      if (this.isPunct(']')) break;
      if (!this.isPunct(',')) this.fail(`expected "," or "]" in a list, found ${describe(this.token)}.`);
      this.advance();
    }
    this.advance();
  }

  private parseValue(field: string): PbValue {
    const t = this.token;
    if (this.isPunct('{') || this.isPunct('<')) return this.parseMessage();
    if (t.kind === 'string') {
      let s = '';
      while (this.token.kind === 'string') {
        s += this.token.value as string;
        this.advance();
      }
      return s;
    }
    if (t.kind === 'number' || t.kind === 'ident') {
      this.advance();
      return t.value;
    }
    if (this.isPunct('-')) {
      this.advance();
      const n = this.token;
      if (n.kind === 'number') {
        this.advance();
        return -(n.value as number);
      }
      if (n.kind === 'ident' && /^(inf|infinity|nan)$/i.test(n.text)) {
        this.advance();
        return n.text.toLowerCase() === 'nan' ? NaN : -Infinity;
      }
      this.fail(`expected a number after "-", found ${describe(n)}.`, n);
    }
    return this.fail(`expected a value for "${field}", found ${describe(t)}.`);
  }

  private isPunct(p: string): boolean {
    return this.token.kind === 'punct' && this.token.text === p;
  }

  private advance(): void {
    this.token = this.next();
  }

  /** The next token, after white space and # comments. */
  private next(): Token {
    const text = this.text;
    for (;;) {
      const c = text[this.pos];
      if (c === '\n') {
        this.pos++;
        this.line++;
        this.lineStart = this.pos;
      } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
        this.pos++;
      } else if (c === '#') {
        while (this.pos < text.length && text[this.pos] !== '\n') this.pos++;
      } else {
        break;
      }
    }
    const at = { line: this.line, column: this.pos - this.lineStart + 1 };
    const make = (kind: Token['kind'], tokenText: string, value: number | string): Token => {
      this.pos += tokenText.length;
      return { kind, text: tokenText, value, ...at };
    };
    if (this.pos >= text.length) return { kind: 'end', text: '', value: '', ...at };
    const c = text[this.pos]!;
    if (c === '"' || c === "'") return this.readString(c, at);
    const number = match(NUMBER, text, this.pos);
    const ident = match(IDENT, text, this.pos);
    const word = number ?? ident;
    if (word !== null) {
      // "12abc" or "1.5.2" is neither a number nor a name.
      const after = text[this.pos + word.length];
      if (after !== undefined && /[A-Za-z0-9_.]/.test(after)) {
        this.fail(`"${text.slice(this.pos, this.pos + word.length + 1)}…" is not a number or a name.`, at);
      }
      if (number !== null) return make('number', number, parseNumber(number));
      return make('ident', word, word);
    }
    if (PUNCT.has(c)) return make('punct', c, c);
    return this.fail(`unexpected character ${JSON.stringify(c)}.`, at);
  }

  private readString(quote: string, at: { line: number; column: number }): Token {
    const text = this.text;
    let i = this.pos + 1;
    let s = '';
    for (;;) {
      const c = text[i];
      if (c === undefined || c === '\n') this.fail('a string is not closed on its line.', at);
      if (c === quote) break;
      if (c !== '\\') {
        s += c;
        i++;
        continue;
      }
      const e = text[i + 1] ?? '';
      const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4));
      const hex = /^[xX]([0-9a-fA-F]{1,2})/.exec(text.slice(i + 1, i + 4));
      if (ESCAPES[e] !== undefined) {
        s += ESCAPES[e];
        i += 2;
      } else if (octal) {
        s += String.fromCharCode(parseInt(octal[0], 8));
        i += 1 + octal[0].length;
      } else if (hex) {
        s += String.fromCharCode(parseInt(hex[1]!, 16));
        i += 1 + hex[0].length;
      } else {
        this.fail(`unknown escape "\\${e}" in a string.`, { line: at.line, column: at.column + (i - this.pos) });
      }
    }
    const raw = text.slice(this.pos, i + 1);
    this.pos = i + 1;
    return { kind: 'string', text: raw, value: s, ...at };
  }
}

function match(re: RegExp, text: string, at: number): string | null {
  re.lastIndex = at;
  return re.exec(text)?.[0] ?? null;
}

function parseNumber(s: string): number {
  if (/^0[xX]/.test(s)) return parseInt(s.slice(2), 16);
  // Protobuf reads a leading 0 on an integer as octal (but "0.5" and "0" are decimal).
  if (/^0[0-7]+$/.test(s)) return parseInt(s.slice(1), 8);
  return Number(s.replace(/[fF]$/, ''));
}

function describe(t: Token): string {
  if (t.kind === 'end') return 'the end of the file';
  return t.kind === 'string' ? `the string ${t.text}` : `"${t.text}"`;
}

/**
 * The message that `text` (protobuf text format) describes. `where` names the file in messages
 * ("models/googlenet/deploy.prototxt"); a syntax error is a WhyCamError ('model-corrupt') naming
 * its line and column.
 */
export function parsePrototxt(text: string, where = 'prototxt'): PbMessage {
  return new Parser(text, where).parseFile();
}

/** The nested messages of `field` (none when absent); a scalar there is an error. */
export function messages(m: PbMessage, field: string, where: string): PbMessage[] {
  return (m[field] ?? []).map((v) => {
    if (typeof v !== 'object')
      throw new WhyCamError('model-corrupt', `${where}: "${field}" should be a message, not ${String(v)}.`);
    return v;
  });
}

/** The only (or last, as protobuf reads a repeated singular field) message of `field`, or an empty one. */
export function message(m: PbMessage, field: string, where: string): PbMessage {
  return messages(m, field, where).at(-1) ?? (Object.create(null) as PbMessage);
}

/** The numbers of `field` (`inf` / `nan` spelt as names included). */
export function numbers(m: PbMessage, field: string, where: string): number[] {
  return (m[field] ?? []).map((v) => {
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && /^(inf|infinity)$/i.test(v)) return Infinity;
    if (typeof v === 'string' && /^nan$/i.test(v)) return NaN;
    throw new WhyCamError(
      'model-corrupt',
      `${where}: "${field}" should be a number, not ${typeof v === 'string' ? `"${v}"` : 'a message'}.`,
    );
  });
}

export function number(m: PbMessage, field: string, fallback: number, where: string): number {
  return numbers(m, field, where).at(-1) ?? fallback;
}

/** The strings (or enum names) of `field`: Caffe's repeated bottom / top. */
export function texts(m: PbMessage, field: string, where: string): string[] {
  return (m[field] ?? []).map((v) => {
    if (typeof v === 'string') return v;
    throw new WhyCamError(
      'model-corrupt',
      `${where}: "${field}" should be text, not ${typeof v === 'number' ? v : 'a message'}.`,
    );
  });
}

/** A string or enum field's last value. */
export function text(m: PbMessage, field: string, fallback: string, where: string): string {
  return texts(m, field, where).at(-1) ?? fallback;
}

/** A bool field, spelt as protobuf allows: true / false, t / f, True / False, 1 / 0. */
export function bool(m: PbMessage, field: string, fallback: boolean, where: string): boolean {
  const v = (m[field] ?? []).at(-1);
  if (v === undefined) return fallback;
  if (v === 1 || (typeof v === 'string' && /^(true|t)$/i.test(v))) return true;
  if (v === 0 || (typeof v === 'string' && /^(false|f)$/i.test(v))) return false;
  throw new WhyCamError('model-corrupt', `${where}: "${field}" should be true or false.`);
}
