// The finetune's gradient (every key, through the whole UNet) against central differences of its own loss,
// along the unit gradient direction: the derivative there is |g|.
import assert from 'node:assert/strict';
import type { FinetuneOptions, LossLayers, SepEnTrainer, TrainingSample } from '../../src/engine/finetune/trainer';

export async function checkDirectionalDerivative(
  label: string,
  trainer: SepEnTrainer,
  batch: TrainingSample[],
  lossLayers: LossLayers,
  options: Pick<FinetuneOptions, 'separateWeight' | 'enhanceWeight' | 'normWeight' | 'headMean'>,
  keys: Map<string, Float32Array> = trainer.baseKeySet(),
  tolerance = 1e-3,
): Promise<void> {
  const { grads } = await trainer.evaluate(batch, keys, lossLayers, options);
  const norm = Math.sqrt([...grads.values()].reduce((s, g) => s + g.reduce((a, v) => a + v * v, 0), 0));
  assert.ok(norm > 0, 'the gradient is not zero');
  const lossAt = async (eps: number): Promise<number> => {
    const moved = new Map(keys);
    for (const [name, g] of grads) moved.set(name, Float32Array.from(keys.get(name) as Float32Array, (w, i) => w + (eps * g[i]) / norm));
    return (await trainer.evaluate(batch, moved, lossLayers, options)).loss;
  };
  // The loss is a max of smooth pieces: a step that crosses a kink (another pixel or head takes the max)
  // is not a derivative. A kink shows as the one-sided differences disagreeing, so the step used is the one
  // where they agree best. Float32 forwards need a step well above their rounding.
  const at0 = await lossAt(0);
  let best = { eps: 0, fd: NaN, disagreement: Infinity };
  for (const eps of [1e-2, 3e-3, 1e-3, 3e-4]) {
    const [plus, minus] = [await lossAt(eps), await lossAt(-eps)];
    const disagreement = Math.abs((plus - at0) / eps - (at0 - minus) / eps) / norm;
    if (disagreement < best.disagreement) best = { eps, fd: (plus - minus) / (2 * eps), disagreement };
  }
  const relative = Math.abs(best.fd - norm) / norm;
  console.log(`${label}: |dL/dW| over ${grads.size} key layers ${norm.toExponential(6)}, central difference ${best.fd.toExponential(6)} (step ${best.eps}), relative error ${relative.toExponential(2)}`);
  assert.ok(relative <= tolerance, `${label}: central difference ${best.fd} (step ${best.eps}) vs gradient norm ${norm}: relative error ${relative}`);
}
