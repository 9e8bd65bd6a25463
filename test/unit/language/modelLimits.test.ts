import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { openModelFolder } from '../../../src/engine/model/modelFolder';
import { defaultDdimConfig } from '../../../src/engine/scheduler/config';
import { computeDiagnostics, modelRequest } from '../../../src/language/diagnosticsLogic';
import { maxValidSteps, readModelLimits } from '../../../src/language/modelLimits';
import { ModelService } from '../../../src/language/modelService';
import { parsePromptFile } from '../../../src/engine/promptFile';

const TINY = path.resolve(__dirname, '../../../../models/tiny-shapes');

describe('model limits while typing', () => {
  test("steps: 'leading' spacing with offset 1 takes at most 999 of 1000 training steps; 'linspace' takes all 1000", () => {
    assert.equal(maxValidSteps({ ...defaultDdimConfig, numTrainTimesteps: 1000, timestepSpacing: 'leading', stepsOffset: 1 }), 999);
    assert.equal(maxValidSteps({ ...defaultDdimConfig, numTrainTimesteps: 1000, timestepSpacing: 'linspace', stepsOffset: 0 }), 1000);
  });

  test('tiny-shapes: steps 1000 and size 64x64 are underlined where written; steps 999 and its own size are not', async () => {
    const limits = await readModelLimits(await openModelFolder(TINY));
    assert.equal(limits.maxSteps, 999);
    assert.ok(limits.fixedSize, 'the UNet has a fixed sample shape');
    const service = new ModelService(path.dirname(TINY));
    const check = async (front: string) => {
      const text = `---\nmodel: tiny-shapes\n${front}\n---\na red [circle]\n`;
      const lines = text.split('\n');
      const parsed = parsePromptFile(text, 'a.prompt');
      const request = modelRequest(parsed, lines);
      assert.ok(request);
      const lookup = await service.lookup(request.model, path.join(path.dirname(TINY), 'a.prompt'), true);
      return computeDiagnostics(parsed, lines, { request, lookup }).filter((d) => d.code === 'model');
    };
    const [steps] = await check('steps: 1000');
    assert.deepEqual([steps?.line, steps?.column, steps?.message], [2, 7, "steps: tiny-shapes's scheduler takes at most 999 steps (more would ask for a timestep outside its training range)"]);
    assert.deepEqual(await check('steps: 999'), []);
    const [size] = await check('size: 64x64');
    assert.equal(size?.message, `size: tiny-shapes only makes ${limits.fixedSize?.width}x${limits.fixedSize?.height} images, not 64x64`);
    assert.deepEqual(await check(`size: ${limits.fixedSize?.width}x${limits.fixedSize?.height}`), []);
  });
});
