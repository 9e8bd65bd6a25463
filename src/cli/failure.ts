// How `prompt-lens` ends on an error: the exit code the README promises and what stderr says.
import { KeySetError } from '../engine/finetune/keySet';
import { ModelError } from '../engine/model/modelFolder';
import { InputError } from '../engine/files/errors';
import { UsageError, USAGE } from './args';

export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

/**
 * Bad input (usage, .prompt file, model, key set) exits 2 with its one-line message; a file-system error
 * (disk full, permission) exits 1 with Node's message, which names the path; anything else is a fault of
 * Prompt Lens and keeps its stack, which helps whoever reports it.
 */
export function failure(error: unknown): { code: number; message: string } {
  if (error instanceof UsageError) return { code: EXIT.badInput, message: `prompt-lens: ${error.message}\n\n${USAGE}` };
  if (error instanceof InputError || error instanceof ModelError || error instanceof KeySetError) {
    return { code: EXIT.badInput, message: `prompt-lens: ${error.message}` };
  }
  if (isSystemError(error)) return { code: EXIT.failed, message: `prompt-lens: ${error.message}` };
  return { code: EXIT.failed, message: `prompt-lens: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` };
}

function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  const { code, syscall } = error as NodeJS.ErrnoException;
  return error instanceof Error && typeof code === 'string' && typeof syscall === 'string';
}
