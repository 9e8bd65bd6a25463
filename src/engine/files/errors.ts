// Errors that are the user's input, not a bug: shown as-is (file:line:col), CLI exit code 2.

export interface InputLocation {
  file: string;
  /** 0-based, like VS Code positions; messages print them 1-based. */
  line: number;
  column: number;
}

export class InputError extends Error {
  constructor(
    message: string,
    readonly location?: InputLocation,
    /** The error underneath (a model loader's), kept for the log. */
    options?: { cause?: unknown },
  ) {
    super(location ? `${location.file}:${location.line + 1}:${location.column + 1}: ${message}` : message, options);
    this.name = 'InputError';
  }
}
