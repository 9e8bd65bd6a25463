import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parsePromptFile, resolveSettings } from '../../../src/engine/promptFile';
import { writeRunRecord } from '../../../src/engine/run/saveRun';
import { fakeRunResult } from '../../fakes/runResult';
import { initialComparison, loadCompareView, loadRunView, toRunView } from '../../../src/results/runView';
import { settingRows } from '../../../src/sidebar/settingRows';
import { historyGroups } from '../../../src/shared/historyGroups';
import type { HistoryItem } from '../../../src/shared/protocol';

describe('run views', () => {
  test('a run read back from its folder equals the one sent right after the run', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pl-ui-'));
    const result = fakeRunResult('a red circle and a blue square');
    result.scores?.masks.set([1, 1, 0, 1], 3);
    result.layers = [{ name: 'mid_block.attentions.0.transformer_blocks.0.attn2', gridH: 2, gridW: 2, heads: 4 }];
    const written = await writeRunRecord(result, dir);
    const live = toRunView(result, written);
    const loaded = await loadRunView(written.folder);
    assert.deepEqual(new Float32Array(loaded.wordMaps), new Float32Array(live.wordMaps));
    assert.deepEqual(new Float32Array(loaded.overlapMap), new Float32Array(live.overlapMap));
    assert.deepEqual(loaded.timeline && { ...loaded.timeline, data: [...new Float32Array(loaded.timeline.data)] }, live.timeline && { ...live.timeline, data: [...new Float32Array(live.timeline.data)] });
    assert.equal(loaded.timeline?.steps, 3);
    assert.deepEqual(loaded.words, live.words);
    assert.deepEqual(loaded.scores, live.scores);
    assert.deepEqual(loaded.detection, live.detection);
    assert.ok(live.masks && loaded.masks, 'masks travel, live and from disk');
    assert.deepEqual(new Uint8Array(loaded.masks), new Uint8Array(live.masks));
    assert.equal(new Uint8Array(live.masks).reduce((a, b) => a + b, 0), 3);
    assert.deepEqual(loaded.layers, live.layers);
    assert.equal(loaded.layers?.[0]?.heads, 4);
    assert.equal(loaded.mapRecipe, 'test');
    assert.equal(loaded.runId, written.id);
    assert.equal(loaded.seed, 5);
    assert.ok(loaded.imagePng.byteLength > 8);
  });

  test("a report of maps a selection filtered carries the selection in its title and heading; the run's own maps do not", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pl-ui-'));
    const title = (html: string): string => /<title>(.*)<\/title>/.exec(html)?.[1] ?? '';
    const plain = await fs.readFile((await writeRunRecord(fakeRunResult('a red circle and a blue square'), dir)).report, 'utf8');
    assert.equal(title(plain), 'Prompt Lens — a red circle and a blue square');
    assert.doesNotMatch(plain, /Maps filtered/);
    const result = { ...fakeRunResult('a red circle and a blue square'), mapFilter: '8x8 layers, heads 0, steps 1–5', filteredFrom: '20261202-211019-a-red-circle' };
    const filtered = await fs.readFile((await writeRunRecord(result, dir)).report, 'utf8');
    assert.equal(title(filtered), 'Prompt Lens — a red circle and a blue square — maps: 8x8 layers, heads 0, steps 1–5');
    assert.match(filtered, /<b>Maps filtered: 8x8 layers, heads 0, steps 1–5<\/b> <span class="muted">\(sampled again from run 20261202-211019-a-red-circle\)/);
  });

  test('a compare folder becomes one before/after pair; references outside it are refused', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pl-ui-'));
    const folder = path.join(dir, '20261127-compare-x');
    const before = await writeRunRecord(fakeRunResult('a red circle and a blue square'), path.join(folder, 'before'));
    const after = await writeRunRecord(fakeRunResult('a red circle and a blue square', 3), path.join(folder, 'after'));
    const compareJson = { prompt: 'a red circle and a blue square', keySet: '/r/20261127-finetune-y/keys.safetensors', before: path.relative(folder, before.folder), after: path.relative(folder, after.folder) };
    await fs.writeFile(path.join(folder, 'compare.json'), JSON.stringify(compareJson));
    const view = await loadCompareView(folder);
    assert.equal(view.kind, 'compare');
    assert.equal(view.keySet, '20261127-finetune-y');
    // The key set's folder is gone: named by its folder name.
    assert.equal(view.title, 'Compare with 20261127-finetune-y');
    assert.equal(view.titleTooltip, 'key set 20261127-finetune-y\ncompared in 20261127-compare-x');
    assert.equal(view.comparisons.length, 1);
    assert.ok(Math.abs((view.comparisons[0].after.scores?.overlap ?? 0) - 0.23) < 1e-9);
    await fs.writeFile(path.join(folder, 'compare.json'), JSON.stringify({ ...compareJson, after: '../../elsewhere' }));
    await assert.rejects(loadCompareView(folder), /outside/);
  });

  test('before/after titles name the key set by what it was trained on and when; the folder names are in the tooltip', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pl-ui-'));
    const keys = path.join(dir, '20261202-211019-finetune-a-red-circle');
    await fs.mkdir(keys);
    const finetune = { model: { id: 'tiny-shapes', hash: 'h' }, options: { lr: 0.0003 }, keys: 'keys.safetensors', trainedPrompts: ['a red circle and a blue square', 'a green triangle and a red circle'], curve: [{ loss: 0.5 }, { loss: 0.4 }], comparisons: [] };
    await fs.writeFile(path.join(keys, 'finetune.json'), JSON.stringify(finetune));
    const day = new Date(2026, 11, 2).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
    const trained = await loadCompareView(keys);
    assert.equal(trained.title, `Finetune on a red circle and a blue square +1 more · ${day}, 21:10: 2 steps, lr 0.0003`);
    assert.equal(trained.titleTooltip, '20261202-211019-finetune-a-red-circle');
    const folder = path.join(dir, '20261202-213000-compare-a-red-circle');
    const before = await writeRunRecord(fakeRunResult('a red circle and a blue square'), path.join(folder, 'before'));
    const after = await writeRunRecord(fakeRunResult('a red circle and a blue square', 3), path.join(folder, 'after'));
    const compareJson = { prompt: 'a red circle and a blue square', keySet: path.join(keys, 'keys.safetensors'), before: path.relative(folder, before.folder), after: path.relative(folder, after.folder) };
    await fs.writeFile(path.join(folder, 'compare.json'), JSON.stringify(compareJson));
    const compared = await loadCompareView(folder);
    assert.equal(compared.title, `Compare with a red circle and a blue square +1 more · ${day}, 21:10`);
    assert.equal(compared.titleTooltip, 'key set 20261202-211019-finetune-a-red-circle\ncompared in 20261202-213000-compare-a-red-circle');
  });

  test('the first comparison shown is the cursor\'s prompt, else the first trained one', () => {
    const cs = [
      { prompt: 'a red circle', group: 'single-object' },
      { prompt: 'a red circle and a blue square', group: 'trained' },
      { prompt: 'a green triangle and a red circle', group: 'trained' },
    ];
    assert.equal(initialComparison(cs, 'a green triangle and a red circle'), 2);
    assert.equal(initialComparison(cs, 'something else'), 1);
    assert.equal(initialComparison(cs), 1);
    assert.equal(initialComparison([{ prompt: 'x', group: 'held-out' }]), 0);
  });
});

describe('sidebar run settings', () => {
  test('every key, written ones marked, defaults filled in', () => {
    const parsed = parsePromptFile('---\nseed: [1, 2]\nsteps: 8\n---\na red [circle]\n', 'x.prompt');
    const rows = settingRows(resolveSettings(parsed.settings));
    const by = (key: string) => rows.find((r) => r.key === key);
    assert.deepEqual(by('seed'), { key: 'seed', value: '1, 2', source: 'file' });
    assert.deepEqual(by('steps'), { key: 'steps', value: '8', source: 'file', editable: true });
    assert.deepEqual(by('guidance'), { key: 'guidance', value: '7.5', source: 'engine', editable: true });
    assert.deepEqual(by('model'), { key: 'model', value: 'tiny-shapes', source: 'engine' });
    assert.deepEqual(by('size'), { key: 'size', value: "model's native size", source: 'engine' });
    assert.equal(by('negative')?.value, '(none)');
    assert.deepEqual(rows.map((r) => r.key), ['model', 'seed', 'steps', 'guidance', 'scheduler', 'size', 'eta', 'negative']);
  });

  test("values the file leaves out show the model's recommended defaults, marked as such", () => {
    const parsed = parsePromptFile('---\nsteps: 8\n---\na red [circle]\n', 'x.prompt');
    const rows = settingRows(resolveSettings(parsed.settings, { steps: 20, guidance: 2, size: { width: 64, height: 32 } }));
    const by = (key: string) => rows.find((r) => r.key === key);
    assert.deepEqual(by('steps'), { key: 'steps', value: '8', source: 'file', editable: true }, 'the file wins');
    assert.deepEqual(by('guidance'), { key: 'guidance', value: '2', source: 'model', editable: true });
    assert.deepEqual(by('size'), { key: 'size', value: '64×32', source: 'model' });
    assert.deepEqual(by('eta'), { key: 'eta', value: '0', source: 'engine' });
  });
});

describe('history groups', () => {
  const item = (id: string, seed: number, at: string, patch: Partial<HistoryItem> = {}): HistoryItem => ({ folder: `/runs/${id}`, id, prompt: 'a red circle', createdAt: at, seed, steps: 20, ...patch });
  test("a seed list's runs are one group; another prompt, a repeated seed, a later Generate or a filtered copy start a new one", () => {
    const groups = historyGroups([
      item('d', 3, '2026-12-02T10:00:03Z'),
      item('c', 2, '2026-12-02T10:00:02Z'),
      item('b', 1, '2026-12-02T10:00:01Z'),
      item('a', 3, '2026-12-02T10:00:00Z'),
      item('z', 1, '2026-12-02T09:00:00Z'),
      item('y', 0, '2026-12-02T08:59:59Z', { filtered: { from: 'x', recipe: 'DAAM: heads 1' } }),
      item('x', 0, '2026-12-02T08:59:58Z', { prompt: 'a blue square' }),
    ]);
    assert.deepEqual(groups.map((g) => g.map((r) => r.id)), [['d', 'c', 'b'], ['a'], ['z'], ['y'], ['x']]);
  });
});
