// The paper's table in miniature (method.md §5) on the embedded model, measured by the detector:
// two-object strict success before and after the Separate-and-Enhance finetune on the training
// pairs and on held-out pairs (pairs with distinct colours and shapes, and pairs sharing one), and
// single-object success before and after.
//   npm run finetune-table [-- --model DIR --seeds N --steps N --lr X --train-steps N --key-pull L --reference FILE.safetensors]
// --key-pull adds the layer-local stand-in for L_norm: lambda * ||W_k - W_k0||^2 keeps the keys near the base model's.
// --reference adds a column for key weights finetuned elsewhere (the PyTorch full-autograd reference,
// models/tiny-shapes/reference/finetune.py), loaded as an overlay of diffusers-named to_k weights.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkImage, type RequestedObject } from '../src/engine/detector';
import { defaultFinetuneOptions, SepEnTrainer, x0ScaleFor } from '../src/engine/finetune/trainer';
import { openModelFolder } from '../src/engine/model/modelFolder';
import { loadOriginalKeys, transpose } from '../src/engine/onnx/instrument';
import { Pipeline } from '../src/engine/pipeline/pipeline';
import { decodeSafetensors, halfsToFloats } from '../src/engine/safetensors';

type Obj = Required<RequestedObject>;
const pair = (a: string, b: string): Obj[] =>
  [a, b].map((s) => {
    const [colour, shape] = s.split(' ');
    return { colour, shape } as Obj;
  });
const TRAIN = [pair('red circle', 'blue square'), pair('green triangle', 'yellow circle'), pair('blue triangle', 'red square'), pair('yellow square', 'green circle')];
const HELD_OUT = [pair('red triangle', 'green square'), pair('blue circle', 'yellow triangle'), pair('green circle', 'red square'), pair('yellow triangle', 'blue square')];
// Pairs that share a colour or a shape: where the embedded model binds words to objects worst (npm run quality).
const TRAIN_SHARED = [pair('red circle', 'red square'), pair('blue triangle', 'green triangle'), pair('yellow square', 'yellow triangle'), pair('green circle', 'blue circle')];
const HELD_OUT_SHARED = [pair('green square', 'green triangle'), pair('red triangle', 'yellow triangle'), pair('blue circle', 'blue square'), pair('yellow circle', 'red circle')];
const SINGLE = ['red', 'green', 'blue', 'yellow'].flatMap((colour) => ['circle', 'square', 'triangle'].map((shape) => [{ colour, shape } as Obj]));
const caption = (objects: Obj[]): string => objects.map((o) => `a ${o.colour} ${o.shape}`).join(' and ');

interface Options {
  seeds: number;
  steps: number;
  guidance: number;
  lr: number;
  trainSteps: number;
  model: string;
  reference?: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { seeds: 50, steps: 20, guidance: 2, lr: defaultFinetuneOptions.lr, trainSteps: defaultFinetuneOptions.steps, model: path.resolve(__dirname, '..', '..', 'models', 'tiny-shapes') };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--seeds') o.seeds = Number(value);
    else if (flag === '--steps') o.steps = Number(value);
    else if (flag === '--guidance') o.guidance = Number(value);
    else if (flag === '--lr') o.lr = Number(value);
    else if (flag === '--train-steps') o.trainSteps = Number(value);
    else if (flag === '--model') o.model = path.resolve(value);
    else if (flag === '--reference') o.reference = path.resolve(value);
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

async function successRate(pipeline: Pipeline, prompts: Obj[][], seeds: number, o: Options, keys?: Map<string, Float32Array>): Promise<[number, number]> {
  let ok = 0;
  let n = 0;
  for (const objects of prompts) {
    for (let seed = 0; seed < seeds; seed++) {
      const out = await pipeline.generate({
        prompt: caption(objects),
        negativePrompt: '',
        seed,
        steps: o.steps,
        guidance: o.guidance,
        eta: 0,
        ...(keys ? { keys } : {}),
      });
      n++;
      if (checkImage(out.image, objects).success) ok++;
    }
  }
  return [ok, n];
}

/** Diffusers-named to_k weights (torch layout) overlaid on the base keys, in the graph's layout. */
async function referenceKeys(file: string, pipeline: Pipeline): Promise<Map<string, Float32Array>> {
  const keys = await loadOriginalKeys(pipeline.instrumented);
  const { tensors } = decodeSafetensors(await fs.readFile(file), file);
  for (const layer of pipeline.instrumented.layers) {
    const t = tensors.get(`${layer.name}.to_k.weight`);
    if (!t) continue;
    const values = t.data instanceof Uint16Array ? halfsToFloats(t.data) : Float32Array.from(t.data);
    keys.set(layer.name, layer.keyTransposed ? transpose(values, layer.innerDim, layer.textDim) : values);
  }
  return keys;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const pipeline = await Pipeline.load(await openModelFolder(o.model));
  const trainer = await SepEnTrainer.create(pipeline);
  const trainStarted = performance.now();
  const trained = await trainer.train(
    [...TRAIN, ...TRAIN_SHARED].map((objects) => {
      const text = caption(objects);
      return {
        text,
        objects: objects.map((obj) => {
          const start = text.indexOf(obj.shape, text.indexOf(obj.colour));
          return { word: obj.shape, start, end: start + obj.shape.length };
        }),
      };
    }),
    { ...defaultFinetuneOptions, x0Scale: x0ScaleFor(pipeline), steps: o.trainSteps, lr: o.lr, },
  );
  const trainMs = performance.now() - trainStarted;
  const first = trained.curve[0]?.loss ?? NaN;
  const last = trained.curve[trained.curve.length - 1]?.loss ?? NaN;
  const columns: [string, Map<string, Float32Array> | undefined][] = [
    ['base', undefined],
    ['engine finetune', trained.keys],
  ];
  if (o.reference) columns.push(['PyTorch reference', await referenceKeys(o.reference, pipeline)]);
  const rows: [string, Obj[][], number][] = [
    ['two objects, training pairs', TRAIN, o.seeds],
    ['two objects, held-out pairs', HELD_OUT, o.seeds],
    ['sharing a colour or shape, training pairs', TRAIN_SHARED, o.seeds],
    ['sharing a colour or shape, held-out pairs', HELD_OUT_SHARED, o.seeds],
    ['single object', SINGLE, Math.max(1, Math.round(o.seeds / 5))],
  ];
  console.log(`model ${pipeline.model.id} (${pipeline.model.hash}); finetune ${trained.curve.length} steps, lr ${o.lr}, batch 4, loss ${first.toFixed(4)} → ${last.toFixed(4)} in ${(trainMs / 1000).toFixed(1)} s${trained.stopped ? ` (stopped: ${trained.stopped})` : ''}`);
  console.log(`sampling: ${o.steps} DDIM steps, guidance ${o.guidance}; detector strict success (every object found with its colour)`);
  console.log('');
  console.log(`| prompts | ${columns.map(([name]) => name).join(' | ')} |`);
  console.log(`|---|${columns.map(() => '---').join('|')}|`);
  for (const [label, prompts, seeds] of rows) {
    const cells: string[] = [];
    for (const [, keys] of columns) {
      const [ok, n] = await successRate(pipeline, prompts, seeds, o, keys);
      cells.push(`${((100 * ok) / n).toFixed(1)}% (${ok}/${n})`);
    }
    console.log(`| ${label} | ${cells.join(' | ')} |`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
