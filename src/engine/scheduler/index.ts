export { DdimScheduler, type DdimStepResult } from './ddim';
export {
  parseSchedulerConfig,
  readSchedulerConfig,
  defaultDdimConfig,
  type DdimSchedulerConfig,
  type BetaSchedule,
  type PredictionType,
  type TimestepSpacing,
} from './config';
