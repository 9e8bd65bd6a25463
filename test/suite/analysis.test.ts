// The results view's attention analysis (object masks, overlap matrix, layer/head/step filters that
// re-run the prompt) and Add Model, in a real extension host.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EXTENSION_ID, promptLensApi, withTimeout, type CompletedRender } from './extensionApi';
import { suiteLog } from './log';

const JOB_TIMEOUT_MS = 120_000;
const PROMPT = 'a red [circle] and a blue [square]';

suite('Attention analysis: masks, overlap matrix, map filters', () => {
  let uri: vscode.Uri;
  let first: CompletedRender;

  suiteSetup(async () => {
    const root = vscode.workspace.workspaceFolders![0].uri;
    uri = vscode.Uri.joinPath(root, 'analysis', 'two.prompt');
    await vscode.workspace.fs.writeFile(uri, Buffer.from(`---\nsteps: 4\nseed: 3\n---\n${PROMPT}\n`));
  });

  test('a two-object run shows both masks, the combined one and the 2×2 overlap matrix', async function () {
    this.timeout(JOB_TIMEOUT_MS);
    const test = await promptLensApi();
    const done = (await vscode.commands.executeCommand('promptLens.generate', uri, 4)) as { runId: string } | undefined;
    assert.ok(done, `the run finished (notice: ${test.lastNotice()})`);
    first = await withTimeout(test.whenResultsRendered(), 30_000, 'the run view');
    assert.equal(first.runId, done.runId);
    assert.deepEqual(first.masks, ['circle', 'square', 'all objects']);
    assert.equal(first.matrix?.length, 4, `a 2×2 matrix: ${first.matrix?.join(' | ')}`);
    assert.match(first.matrix?.[1] ?? '', /^circle × square: IoU \d\.\d\d$/);
    assert.match(first.matrix?.[2] ?? '', /^square × circle: intersection over square's area \d\.\d\d$/);
    assert.match(first.matrix?.[0] ?? '', /^circle: mask area \d+%$/);
    assert.deepEqual(first.filter, {}, 'no filter: every layer, head and step');
    assert.ok((first.layerOptions?.length ?? 0) >= 3, `layer options: ${first.layerOptions?.join(', ')}`);
    assert.ok((first.headOptions?.length ?? 0) >= 2, `head options: ${first.headOptions?.join(', ')}`);
    suiteLog(`    layers: ${first.layerOptions?.join(' | ')}; heads: ${first.headOptions?.join(', ')}`);
    suiteLog(`    matrix: ${first.matrix?.join(' | ')}`);
  });

  const runFolders = (): string[] => fs.readdirSync(path.dirname(first.runFolder)).filter((n) => !n.startsWith('.'));

  test('a head filter is a view of the same run, aggregated from the attention it kept: no folder is written', async function () {
    this.timeout(JOB_TIMEOUT_MS);
    const test = await promptLensApi();
    const folders = runFolders();
    // The same run again: wait for the next drawing, not the run's last one.
    const next = test.nextResultsRender();
    const done = await test.filterMaps(first.runFolder, { head: 1 });
    assert.ok(done, `the filtered view came (notice: ${test.lastNotice()})`);
    const state = await withTimeout(next, 30_000, 'the filtered view');
    assert.deepEqual([done.runFolder, state.runId], [first.runFolder, first.runId], 'the same run');
    assert.deepEqual(runFolders(), folders, 'no run folder written');
    assert.match(state.recipe ?? '', /heads 1, all 4 steps/);
    assert.deepEqual(state.filter, { head: 1 });
    assert.deepEqual(state.masks, first.masks);
  });

  test('a head and step-range filter is a view too: the filter it was made with, scores and masks unchanged', async function () {
    this.timeout(JOB_TIMEOUT_MS);
    const test = await promptLensApi();
    const folders = runFolders();
    // The same run again: wait for the next drawing, not the run's last one.
    const next = test.nextResultsRender();
    const done = await test.filterMaps(first.runFolder, { head: 0, steps: { from: 1, to: 3 } });
    assert.ok(done, `the filtered view came (notice: ${test.lastNotice()})`);
    const state = await withTimeout(next, 30_000, 'the filtered view');
    assert.equal(state.runId, first.runId);
    assert.deepEqual(runFolders(), folders, 'no run folder written');
    assert.deepEqual(state.filter, { head: 0, steps: { from: 1, to: 3 } }, 'the view shows the filter it was made with');
    assert.match(state.recipe ?? '', /heads 0\b.*steps 2–4/);
    assert.deepEqual(state.masks, first.masks, "masks and scores stay Separate-and-Enhance's own");
    assert.deepEqual(state.matrix, first.matrix);
  });

  test('"All layers" keeps the coarsest grid that DAAM\'s default leaves out', async function () {
    this.timeout(JOB_TIMEOUT_MS);
    const test = await promptLensApi();
    // The same run again: wait for the next drawing, not the run's last one.
    const next = test.nextResultsRender();
    const done = await test.filterMaps(first.runFolder, { allLayers: true });
    assert.ok(done, `the filtered view came (notice: ${test.lastNotice()})`);
    const recipe = (await withTimeout(next, 30_000, 'the filtered view')).recipe ?? '';
    const before = first.recipe ?? '';
    suiteLog(`    default: ${before}\n    all layers: ${recipe}`);
    const grids = (text: string): number => (text.match(/\d+x\d+/g) ?? []).filter((g) => !text.includes(`bicubic to ${g}`)).length;
    assert.ok(grids(recipe) > grids(before), `more grids with all layers: "${recipe}" vs "${before}"`);
  });

  test('an invalid selection fails with the engine\'s message, listing the valid layers', async function () {
    this.timeout(JOB_TIMEOUT_MS);
    const test = await promptLensApi();
    const done = await test.filterMaps(first.runFolder, { layer: 'no_such_block' });
    assert.equal(done, undefined);
    assert.match(test.lastNotice() ?? '', /unknown layer 'no_such_block'; valid layers are:\n\s+\S+attn2/);
  });
});

suite('Add Model', () => {
  const NAME = 'sd-tiny-suite';
  let before: Record<string, string> | undefined;

  suiteSetup(() => {
    before = vscode.workspace.getConfiguration('promptLens').inspect<Record<string, string>>('models')?.globalValue;
  });
  suiteTeardown(async () => {
    await vscode.workspace.getConfiguration('promptLens').update('models', before, vscode.ConfigurationTarget.Global);
  });

  test('is contributed and registered', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('promptLens.addModel'));
  });

  test('a folder that is not an export is refused and nothing is added', async function () {
    this.timeout(30_000);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-not-a-model-'));
    const added = await vscode.commands.executeCommand('promptLens.addModel', vscode.Uri.file(empty), NAME);
    assert.equal(added, undefined);
    assert.equal(vscode.workspace.getConfiguration('promptLens').get<Record<string, string>>('models', {})[NAME], undefined);
  });

  test('an SD 1.x-shaped export passes the check and is added under the given name', async function () {
    this.timeout(60_000);
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    const folder = path.join(ext.extensionPath, 'test', 'fixtures', 'sd-tiny');
    const added = await vscode.commands.executeCommand('promptLens.addModel', vscode.Uri.file(folder), NAME);
    assert.equal(added, NAME);
    const models = vscode.workspace.getConfiguration('promptLens').get<Record<string, string>>('models', {});
    assert.equal(models[NAME], folder, 'promptLens.models names the folder');
    const bad = await vscode.commands.executeCommand('promptLens.addModel', vscode.Uri.file(folder), 'has/slash');
    assert.equal(bad, undefined, 'a name with a slash is refused');
  });
});
