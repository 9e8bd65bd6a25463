export { parsePromptFile, formatDiagnostic } from './parse';
export {
  defaultSettings,
  effectiveSettingKeys,
  effectiveSettings,
  modelDefaultKeys,
  resolveSettings,
  type EffectiveSettings,
  type ModelDefaultKey,
  type ModelDefaults,
  type ResolvedSettings,
  type SettingSource,
} from './defaults';
export { objectLabels } from './marks';
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
