// The names of the files record folders hold, in one place for the writers and every reader. A run
// folder: run.json documents the rest. A finetune folder: finetune.json, its key set, its report and
// before/ and after/ run folders. A compare folder: compare.json and before/ and after/ run folders.

export const RUN_JSON = 'run.json';
export const RUN_RECORD_VERSION = 1;
export const RUN_IMAGE = 'image.png';
export const RUN_IMAGE_LARGE = 'image-large.png';
/** The folder of the per-word heat and overlay pictures. */
export const RUN_PICTURES_DIR = 'maps';
export const RUN_MAPS = 'maps.safetensors';
export const ATTENTION_FILE = 'attention.safetensors';
export const REPORT_FILE = 'report.html';

export const FINETUNE_JSON = 'finetune.json';
export const KEYS_FILE = 'keys.safetensors';
export const COMPARE_JSON = 'compare.json';
/** Where a finetune or compare folder keeps the run folders sampled with the base keys, and with the finetuned ones. */
export const BEFORE_DIR = 'before';
export const AFTER_DIR = 'after';
