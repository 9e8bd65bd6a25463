/**
 * Reverse-mode differentiation of ONNX graphs (docs/method.md §4): plan the path from the inputs to the
 * seeds, read its static shapes by running a probe of the forward once, emit the gradient model.
 */
import type { ModelProto } from '../onnx/proto';
import { emitGradientModel, type GradientModel } from './gradientModel';
import { planGradient, type GradientRequest } from './plan';
import { probeModel, readProbe } from './staticShapes';

export { gradName, type GradientModel } from './gradientModel';
export { GradientError, type GradientRequest } from './plan';
export { withStaticInputs } from './staticShapes';

/** Runs a model (the probe) and returns the named integer outputs. */
export type ProbeRunner = (probe: ModelProto, outputs: string[]) => Promise<Record<string, ArrayLike<number | bigint>>>;

export async function differentiate(model: ModelProto, request: GradientRequest, runProbe: ProbeRunner): Promise<GradientModel> {
  const plan = planGradient(model, request);
  const probe = probeModel(model, plan, [...request.seeds, ...(request.keep ?? [])]);
  const results = await runProbe(probe.model, [...probe.shapeOf.keys(), ...probe.valueOf.keys()]);
  return emitGradientModel(model, request, plan, readProbe(model, plan, probe, results));
}
