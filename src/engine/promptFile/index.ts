export { parsePromptFile, formatDiagnostic } from './parse';
export { defaultSettings, effectiveSettings, type EffectiveSettings } from './defaults';
export { resolveModelReference, type ModelReference } from './modelRef';
export type {
  ParsedPromptFile,
  PromptSettings,
  PromptLine,
  PromptDiagnostic,
  MarkedObject,
  Setting,
  SettingKey,
  ImageSize,
  SourceRange,
} from './types';
