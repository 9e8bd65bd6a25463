// What a model accepts that a run would otherwise only find out while sampling: how many DDIM steps its
// scheduler can take, and the one image size a UNet exported with a fixed sample shape makes.
import { promises as fs } from 'node:fs';
import type { ModelFolder } from '../engine/model/modelFolder';
import { readGraphSignature } from '../engine/onnx/signature';
import { VAE_SCALE } from '../engine/pipeline/sampleShape';
import { readSchedulerConfig, type DdimSchedulerConfig } from '../engine/scheduler/config';
import { DdimScheduler } from '../engine/scheduler/ddim';

export interface ModelLimits {
  /** The most sampling steps whose timesteps all lie inside the scheduler's training range. */
  maxSteps?: number;
  /** The only image size the UNet takes (its sample shape is fixed in the graph), in pixels. */
  fixedSize?: { width: number; height: number };
}

/** The graph is read whole to find its input shape: only for UNets small enough to read while typing. */
const GRAPH_READ_LIMIT = 64 * 1024 * 1024;

/** The largest step count the scheduler's timesteps stay inside [0, num_train_timesteps − 1] for. */
export function maxValidSteps(config: DdimSchedulerConfig): number {
  const scheduler = new DdimScheduler(config);
  const last = config.numTrainTimesteps - 1;
  for (let steps = config.numTrainTimesteps; steps > 1; steps--) {
    if (scheduler.timesteps(steps).every((t) => t >= 0 && t <= last)) return steps;
  }
  return 1;
}

export async function readModelLimits(folder: ModelFolder): Promise<ModelLimits> {
  const limits: ModelLimits = {};
  try {
    limits.maxSteps = maxValidSteps(await readSchedulerConfig(folder.schedulerConfigPath));
  } catch {
    // A broken scheduler config is the run's to report, with its own message.
  }
  try {
    if ((await fs.stat(folder.unetPath)).size <= GRAPH_READ_LIMIT) {
      const sample = (await readGraphSignature(folder.unetPath)).inputs.find((p) => p.name === 'sample');
      const [, , h, w] = sample?.dims ?? [];
      const scale = folder.vaeDecoderPath ? VAE_SCALE : 1;
      if (typeof h === 'number' && typeof w === 'number') limits.fixedSize = { width: w * scale, height: h * scale };
    }
  } catch {
    // Unreadable graph: the run reports it.
  }
  return limits;
}
