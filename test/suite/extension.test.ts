// Integration tests in a real VS Code extension host (code-server here, desktop VS Code under
// @vscode/test-electron). The workspace is test/fixtures/workspace (a copy of it under code-server).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EXTENSION_ID, withTimeout, type PromptLensTestApi } from './extensionApi';
import { E2E_OUT_ENV, suiteLog } from './log';

const LANGUAGE_ID = 'prompt-lens';
const GENERATE = 'promptLens.generate';
const PROMPT_LINE = 'a red [circle] and a blue [square]';
const GENERATE_TIMEOUT_MS = 150_000;

function isTestApi(value: unknown): value is PromptLensTestApi {
  return typeof value === 'object' && value !== null && typeof (value as PromptLensTestApi).whenResultsRendered === 'function';
}

async function fixtureUri(): Promise<vscode.Uri> {
  const found = await vscode.workspace.findFiles('**/shapes.prompt', '**/node_modules/**', 1);
  assert.equal(found.length, 1, `shapes.prompt not found in the workspace ${JSON.stringify(vscode.workspace.workspaceFolders?.map((f) => f.uri.toString()))}`);
  return found[0]!;
}

/** Keeps evidence of a run for people reading the CI output (only when the e2e runner asks for it). */
function saveArtifact(name: string, data: string | Buffer): void {
  const out = process.env[E2E_OUT_ENV];
  if (!out) return;
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, name), data);
  suiteLog(`    artifact: ${path.join(out, name)}`);
}

suite('Harness', () => {
  test('runs in an extension host with the fixture workspace open', async () => {
    assert.ok(vscode.version, 'vscode API available');
    assert.ok((vscode.workspace.workspaceFolders ?? []).length > 0, 'a workspace folder is open');
    await fixtureUri();
  });
});

suite('Prompt Lens extension', () => {
  test('is present under its id', () => {
    assert.ok(vscode.extensions.getExtension(EXTENSION_ID), `extension ${EXTENSION_ID} not found`);
  });

  test('.prompt files get the prompt-lens language', async () => {
    const doc = await vscode.workspace.openTextDocument(await fixtureUri());
    assert.equal(doc.languageId, LANGUAGE_ID);
  });

  test('activates and returns the test API', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} not found`);
    const api: unknown = await ext.activate();
    assert.ok(ext.isActive, 'extension is active');
    assert.ok(isTestApi(api), 'activate() returns { whenResultsRendered() }');
  });

  test(`registers ${GENERATE}`, async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes(GENERATE), `${GENERATE} is not registered`);
  });

  test('Generate on a prompt line draws the image and the object words\' maps', async function () {
    this.timeout(GENERATE_TIMEOUT_MS + 10_000);
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} not found`);
    const api: unknown = await ext.activate();
    assert.ok(isTestApi(api), 'activate() returns { whenResultsRendered() }');

    const doc = await vscode.workspace.openTextDocument(await fixtureUri());
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    const line = doc.getText().split(/\r?\n/).findIndex((l) => l.trim() === PROMPT_LINE);
    assert.ok(line >= 0, `fixture has no line "${PROMPT_LINE}"`);
    const cursor = new vscode.Position(line, PROMPT_LINE.indexOf('[circle]') + 3);
    editor.selection = new vscode.Selection(cursor, cursor);

    // The command resolves once the run is written; the API then waits for the webview's report.
    const done: unknown = await vscode.commands.executeCommand(GENERATE);
    const state = await withTimeout(api.whenResultsRendered(), GENERATE_TIMEOUT_MS, 'the results webview to render');
    saveArtifact('rendered-state.json', JSON.stringify(state, null, 2));

    assert.equal(state.imageShown, true, 'the webview shows the generated image');
    assert.ok(Array.isArray(state.tokenMaps), 'tokenMaps is a list');
    for (const word of ['circle', 'square']) {
      assert.ok(state.tokenMaps.includes(word), `the webview drew a map for "${word}" (drew: ${state.tokenMaps.join(', ')})`);
    }

    const webviewTabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview);
    assert.ok(webviewTabs.length > 0, 'a webview tab is open');

    assert.ok(typeof done === 'object' && done !== null && 'runId' in done, `Generate resolves with the run it wrote (got ${JSON.stringify(done)})`);
    assert.equal(state.runId, (done as { runId: unknown }).runId, 'the rendered state is for the run the command started');
    assert.equal(typeof state.runFolder, 'string', 'runFolder is a path');
    for (const file of ['run.json', 'image.png']) {
      assert.ok(fs.existsSync(path.join(state.runFolder, file)), `run folder ${state.runFolder} holds ${file}`);
    }
    // The run is the one under the cursor (line 6), not another line of the file.
    const record = JSON.parse(fs.readFileSync(path.join(state.runFolder, 'run.json'), 'utf8')) as { prompt?: unknown; settings?: { seed?: unknown; steps?: unknown } };
    assert.equal(typeof record.prompt, 'string', 'run.json has the prompt');
    const prompt = String(record.prompt);
    assert.ok(/circle/.test(prompt) && /square/.test(prompt) && !/triangle/.test(prompt), `run.json prompt "${prompt}" is the line under the cursor`);
    assert.equal(record.settings?.steps, 8, 'front matter steps: 8 applies');
    assert.equal(record.settings?.seed, 1, 'front matter seed: 1 applies');
    saveArtifact('generated-image.png', fs.readFileSync(path.join(state.runFolder, 'image.png')));
  });

  test('Generate with a list of seeds writes one run per seed and shows the last', async function () {
    this.timeout(GENERATE_TIMEOUT_MS + 10_000);
    const api: unknown = await vscode.extensions.getExtension(EXTENSION_ID)!.activate();
    assert.ok(isTestApi(api));
    const root = vscode.workspace.workspaceFolders![0].uri;
    const uri = vscode.Uri.joinPath(root, 'seeds', 'seeds.prompt');
    await vscode.workspace.fs.writeFile(uri, Buffer.from(`---\nsteps: 4\nseed: [2, 7]\n---\n${PROMPT_LINE}\n`));
    const done = (await vscode.commands.executeCommand(GENERATE, uri, 4)) as { runFolder: string } | undefined;
    assert.ok(done, 'the job finished');
    const state = await withTimeout(api.whenResultsRendered(), GENERATE_TIMEOUT_MS, 'the results webview to render');
    assert.equal(state.runFolder, done.runFolder);
    const runs = path.join(root.fsPath, 'seeds', 'runs');
    const bySeed = new Map(
      fs.readdirSync(runs).map((name) => [(JSON.parse(fs.readFileSync(path.join(runs, name, 'run.json'), 'utf8')) as { settings: { seed: number } }).settings.seed, path.join(runs, name)]),
    );
    assert.deepEqual([...bySeed.keys()].sort((a, b) => a - b), [2, 7], `one run per seed in ${runs}`);
    assert.equal(done.runFolder, bySeed.get(7), 'the view shows the last seed');
    assert.deepEqual(state.seeds, [2, 7], 'the seed list offers both runs');
    // The seed list switches to the other run, and keeps offering both.
    const rendered = api.nextResultsRender();
    await api.openSeedRun(bySeed.get(2)!);
    const other = await withTimeout(rendered, 30_000, 'the other seed\'s run');
    assert.equal(other.runId, path.basename(bySeed.get(2)!));
    assert.deepEqual(other.seeds, [2, 7]);
  });
});
