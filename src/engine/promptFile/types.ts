/** Positions are 0-based lines and UTF-16 columns; ends are exclusive. */
export interface SourceRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface PromptDiagnostic extends SourceRange {
  severity: 'error' | 'warning';
  message: string;
}

export interface Setting<T> {
  value: T;
  /** Where the key and the value are written, for hovers and quick fixes. */
  keyRange: SourceRange;
  valueRange: SourceRange;
}

export interface ImageSize {
  width: number;
  height: number;
}

/** Only the settings written in the front matter with a valid value. */
export interface PromptSettings {
  model?: Setting<string>;
  /** A single seed is normalised to a one-element list. */
  seed?: Setting<number[]>;
  steps?: Setting<number>;
  guidance?: Setting<number>;
  scheduler?: Setting<'ddim'>;
  size?: Setting<ImageSize>;
  eta?: Setting<number>;
  negative?: Setting<string>;
}

export type SettingKey = keyof PromptSettings;

/** A [marked] object word. */
export interface MarkedObject {
  word: string;
  /** Offsets of the word in the stripped prompt text (end exclusive). */
  start: number;
  end: number;
  /** Position of the word (inside the brackets) in the file. */
  line: number;
  column: number;
  endColumn: number;
}

export interface PromptLine {
  /** 0-based line in the file. */
  line: number;
  /** The prompt with marks stripped and outer whitespace trimmed: what the tokenizer sees. */
  text: string;
  /** The line as written. */
  raw: string;
  objects: MarkedObject[];
}

export interface ParsedPromptFile {
  settings: PromptSettings;
  prompts: PromptLine[];
  diagnostics: PromptDiagnostic[];
}
