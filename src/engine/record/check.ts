// The checks every record read back from disk goes through (schema.ts composes them into run.json,
// finetune.json, compare.json and key-set metadata). Every field a reader uses is checked for type and
// size, so a mistyped, truncated or crafted record is an error naming the file and the field, never a
// TypeError (or a huge allocation) later in a view, the history or the CLI.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../files/errors';

/** Sizes no genuine record comes near; anything larger is refused before it is parsed or used. */
export const RECORD_LIMITS = {
  /** Bytes of one JSON record (a finetune's curve and comparisons stay far below). */
  fileBytes: 32 * 1024 * 1024,
  /** Characters of one text field (prompts, names, paths). */
  textChars: 10_000,
  /** Items of one list (words, tokens, layers, curve steps, comparisons). */
  listItems: 100_000,
} as const;

/** A record on disk that is not what its name says: `file` and the field are in the message. */
export class RecordError extends InputError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'RecordError';
  }
}

/** A field that failed its check; becomes a RecordError once the file is known. */
class FieldError extends Error {
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super(`"${field}" must be ${expected}, got ${describe(got)}`);
  }
}

/** Checks one value at `at` (a dotted field path) and returns it typed, or throws a FieldError. */
export type Check<T> = (value: unknown, at: string) => T;
export type Checked<C> = C extends Check<infer T> ? T : never;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'string') return v.length > 40 ? `a text of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

export function text(maxChars: number = RECORD_LIMITS.textChars): Check<string> {
  return (v, at) => {
    if (typeof v !== 'string' || v.length > maxChars) throw new FieldError(at, `a text of at most ${maxChars} characters`, v);
    return v;
  };
}

export function number(range: { integer?: boolean; min?: number; max?: number } = {}): Check<number> {
  const { integer = false, min = -Infinity, max = Infinity } = range;
  const expected = `${integer ? 'a whole' : 'a finite'} number${min > -Infinity ? ` >= ${min}` : ''}${max < Infinity ? ` <= ${max}` : ''}`;
  return (v, at) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) throw new FieldError(at, expected, v);
    return v;
  };
}

export const count = number({ integer: true, min: 0 });
export const size = number({ integer: true, min: 1, max: 1 << 16 });

export const flag: Check<boolean> = (v, at) => {
  if (typeof v !== 'boolean') throw new FieldError(at, 'true or false', v);
  return v;
};

export function oneOf<const T extends string>(values: readonly T[]): Check<T> {
  return (v, at) => {
    if (!values.includes(v as T)) throw new FieldError(at, `one of ${values.join(', ')}`, v);
    return v as T;
  };
}

export function list<T>(item: Check<T>, maxItems: number = RECORD_LIMITS.listItems): Check<T[]> {
  return (v, at) => {
    if (!Array.isArray(v) || v.length > maxItems) throw new FieldError(at, `a list of at most ${maxItems} items`, v);
    return v.map((x, i) => item(x, `${at}[${i}]`));
  };
}

/** Marks a field that may be absent (absent only: a null is a value, and a wrong one). */
export function optional<T>(check: Check<T>): Check<T | undefined> & { optional: true } {
  const c = ((v: unknown, at: string) => (v === undefined ? undefined : check(v, at))) as Check<T | undefined> & { optional: true };
  c.optional = true;
  return c;
}

type Shape = Record<string, Check<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
type Fields<S extends Shape> = { [K in Exclude<keyof S, OptionalKeys<S>>]: Checked<S[K]> } & { [K in OptionalKeys<S>]?: Checked<S[K]> };

/** An object with these fields (others are ignored and not returned). */
export function fields<S extends Shape>(shape: S): Check<Fields<S>> {
  return (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FieldError(at, 'an object', v);
    const source = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      const value = check(source[key], at ? `${at}.${key}` : key);
      if (value !== undefined) out[key] = value;
    }
    return out as Fields<S>;
  };
}

/** A path inside the record's own folder: relative, and no `..` step out of it. */
export const relativePath: Check<string> = (v, at) => {
  const p = text(4096)(v, at);
  const normal = path.normalize(p);
  if (p === '' || path.isAbsolute(p) || normal === '..' || normal.startsWith(`..${path.sep}`) || normal.startsWith('../')) {
    throw new FieldError(at, 'a relative path not leading outside the record\'s folder', v);
  }
  return normal;
};

/** Checks `value` (already parsed) against `check`; errors name `file`. */
export function validate<T>(value: unknown, check: Check<T>, file: string): T {
  try {
    return check(value, '');
  } catch (error) {
    if (error instanceof FieldError) throw new RecordError(file, error.field ? error.message : `must be ${error.expected}, got ${describe(error.got)}`);
    throw error;
  }
}

/** Reads and checks a JSON record; a missing file, a file too large or broken JSON is a RecordError too. */
export async function readRecord<T>(file: string, check: Check<T>): Promise<T> {
  let bytes: Buffer;
  try {
    const handle = await fs.open(file, 'r');
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new RecordError(file, 'is not a file');
      if (stat.size > RECORD_LIMITS.fileBytes) throw new RecordError(file, `is ${stat.size} bytes, more than a record may be (${RECORD_LIMITS.fileBytes})`);
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof RecordError) throw error;
    throw new RecordError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseRecord(bytes.toString('utf8'), check, file);
}

/** Parses and checks a record's text (already read); broken JSON is a RecordError too. */
export function parseRecord<T>(text: string, check: Check<T>, file: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new RecordError(file, `is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return validate(parsed, check, file);
}

/** A metadata string holding JSON, checked like a record field. */
export function jsonText<T>(check: Check<T>): Check<T> {
  return (v, at) => {
    const raw = text(RECORD_LIMITS.fileBytes)(v, at);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new FieldError(at, 'JSON text', v);
    }
    return check(parsed, at);
  };
}

/** The containing folder of a relative record path, resolved and kept inside `folder`. */
export function resolveInside(folder: string, relative: string, file: string): string {
  const resolved = path.resolve(folder, relative);
  const rel = path.relative(folder, resolved);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new RecordError(file, `${relative} points outside ${folder}`);
  return resolved;
}
