/** Every op the differentiator knows, by ONNX op type (default domain). */
import { elementwiseRules } from './elementwise';
import { layoutRules } from './layout';
import { linearRules } from './linear';
import { normalizationRules } from './normalization';
import { reductionRules } from './reduction';
import type { GradientRule } from './types';

export type { GradientRule, RuleContext } from './types';

export const gradientRules: ReadonlyMap<string, GradientRule> = new Map(
  Object.entries({ ...elementwiseRules, ...linearRules, ...layoutRules, ...reductionRules, ...normalizationRules }),
);

/** Ops whose outputs carry no gradient: shapes, comparisons, index computations. */
export const nonDifferentiable: ReadonlySet<string> = new Set([
  'Shape', 'Size', 'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor',
  'NonZero', 'ArgMax', 'ArgMin', 'ConstantOfShape', 'Range', 'Floor', 'Ceil', 'Round', 'Sign', 'IsNaN', 'IsInf',
]);
