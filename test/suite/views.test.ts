// The full extension experience in a real extension host: the lens commands (Generate, Finetune,
// Compare) executed as the editor gives them, the before/after view, export, the sidebar run panel
// and cancelling through the status bar item's command. The embedded model finetunes 10 steps in ~2 s.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { promptLensApi, withTimeout } from './extensionApi';
import { E2E_OUT_ENV, suiteLog } from './log';

const JOB_TIMEOUT_MS = 120_000;
const PROMPT = 'a red [circle] and a blue [square]';

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await wait(50);
  }
}

/** Visible run/finetune folders (not `.partial-*` staging ones) under `dir`. */
function folders(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
}

suite('Lens commands, before/after view, sidebar, cancel', () => {
  let uri: vscode.Uri;
  let runsDir: string;
  let line: number;
  let generatedRunId = '';

  suiteSetup(async () => {
    const root = vscode.workspace.workspaceFolders![0].uri;
    uri = vscode.Uri.joinPath(root, 'views', 'ft.prompt');
    await vscode.workspace.fs.writeFile(uri, Buffer.from(`---\nsteps: 6\nseed: 3\n---\n${PROMPT}\n`));
    runsDir = path.join(path.dirname(uri.fsPath), 'runs');
    line = 4;
    await vscode.workspace.getConfiguration('promptLens').update('finetune.steps', 10, vscode.ConfigurationTarget.Workspace);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: false });
  });

  async function lens(title: RegExp): Promise<vscode.Command> {
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
    const found = lenses.find((l) => l.range.start.line === line && l.command && title.test(l.command.title));
    assert.ok(found?.command, `no "${String(title)}" lens on line ${line + 1} (lenses: ${lenses.map((l) => `${l.range.start.line}:${l.command?.title}`).join(', ')})`);
    return found.command;
  }

  async function runLens(title: RegExp): Promise<unknown> {
    const command = await lens(title);
    return vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));
  }

  test('each prompt line has Generate, Finetune and Compare lenses', async () => {
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
    const commands = lenses.filter((l) => l.range.start.line === line).map((l) => l.command?.command);
    assert.deepEqual(commands, ['promptLens.generate', 'promptLens.finetune', 'promptLens.compare']);
  });

  test('Compare before any Finetune says to run Finetune first, and writes nothing', async () => {
    const test = await promptLensApi();
    const done = await runLens(/^Compare/);
    assert.equal(done, undefined);
    assert.match(test.lastNotice() ?? '', /Run Finetune first/);
    assert.deepEqual(folders(runsDir), []);
  });

  test('Finetune lens: trains 10 steps, then the before/after view draws both images and the deltas', async function () {
    this.timeout(JOB_TIMEOUT_MS);
    const test = await promptLensApi();
    const started = Date.now();
    const done = (await withTimeout(runLens(/^Finetune/) as Promise<{ runId: string; runFolder: string } | undefined>, JOB_TIMEOUT_MS, 'the finetune')) ?? undefined;
    assert.ok(done, 'the finetune finished');
    const state = await withTimeout(test.whenResultsRendered(), 30_000, 'the before/after view');
    suiteLog(`    finetune + view in ${Date.now() - started} ms; deltas: ${state.deltas?.join(' | ')}`);
    assert.equal(state.mode, 'compare');
    assert.equal(state.runId, done.runId);
    assert.equal(state.imageShown, true, 'the base image is drawn');
    assert.equal(state.afterImageShown, true, 'the finetuned image is drawn');
    assert.ok((state.deltas ?? []).some((d) => /^Overlap [\d.]+ → [\d.]+ \([−+±][\d.]+, (better|worse|same)\)$/.test(d)), `overlap delta shown: ${state.deltas?.join(' | ')}`);
    assert.ok((state.deltas ?? []).some((d) => /^Activation of circle /.test(d)), 'activation delta shown');
    assert.deepEqual([state.masks, state.afterMasks], [['circle', 'square', 'all objects'], ['circle', 'square', 'all objects']], 'object masks before and after');
    assert.equal(state.timelineSteps, 6, 'the step slider covers the 6 sampling steps');
    const finetune = JSON.parse(fs.readFileSync(path.join(done.runFolder, 'finetune.json'), 'utf8')) as { curve: unknown[] };
    assert.equal(finetune.curve.length, 10, 'promptLens.finetune.steps: 10 applies');
    assert.ok(fs.existsSync(path.join(done.runFolder, 'keys.safetensors')));
  });

  test('the view exports as PNG, and an existing file is never overwritten', async function () {
    this.timeout(40_000);
    const test = await promptLensApi();
    const file = path.join(path.dirname(uri.fsPath), 'export.png');
    const saved = await test.exportViewTo(file);
    assert.equal(saved, file);
    const bytes = fs.readFileSync(file);
    const out = process.env[E2E_OUT_ENV];
    if (out) {
      fs.mkdirSync(out, { recursive: true });
      fs.copyFileSync(file, path.join(out, 'exported-before-after.png'));
    }
    assert.deepEqual([...bytes.subarray(1, 4)].map((b) => String.fromCharCode(b)).join(''), 'PNG');
    // Base and finetuned images, then both runs' object masks: four 256 px pictures with 16 px gaps (IHDR width).
    assert.equal(bytes.readUInt32BE(16), 16 + 4 * (256 + 16), 'the export holds both images and both runs\' masks');
    const again = await test.exportViewTo(file);
    assert.equal(again, '', 'a second export to the same file is refused');
    assert.deepEqual(fs.readFileSync(file), bytes, 'the file is unchanged');
  });

  test('Compare lens: the newest key set of the same base model, before/after view', async function () {
    this.timeout(JOB_TIMEOUT_MS);
    const test = await promptLensApi();
    const done = (await withTimeout(runLens(/^Compare/) as Promise<{ runId: string; runFolder: string } | undefined>, JOB_TIMEOUT_MS, 'the compare')) ?? undefined;
    assert.ok(done, `the compare ran (notice: ${test.lastNotice()})`);
    assert.match(path.basename(done.runFolder), /-compare-/);
    const state = await withTimeout(test.whenResultsRendered(), 30_000, 'the compare view');
    assert.equal(state.mode, 'compare');
    assert.equal(state.afterImageShown, true);
    const compare = JSON.parse(fs.readFileSync(path.join(done.runFolder, 'compare.json'), 'utf8')) as { keySet: string };
    assert.match(compare.keySet, /-finetune-.*keys\.safetensors$/);
  });

  test('with two key sets of the model, Compare asks which one (newest first) with a QuickPick', async function () {
    this.timeout(JOB_TIMEOUT_MS);
    const test = await promptLensApi();
    // A second finetune, with options as the sidebar passes them (3 steps).
    const second = (await vscode.commands.executeCommand('promptLens.finetune', uri, line, { steps: 3, lr: 2e-4 })) as { runFolder: string } | undefined;
    assert.ok(second, 'the second finetune ran');
    const finetune = JSON.parse(fs.readFileSync(path.join(second.runFolder, 'finetune.json'), 'utf8')) as { curve: unknown[]; options: { lr: number } };
    assert.equal(finetune.curve.length, 3);
    assert.equal(finetune.options.lr, 2e-4);
    let settled = false;
    const running = Promise.resolve(vscode.commands.executeCommand('promptLens.compare', uri, line)).finally(() => {
      settled = true;
    });
    // Accept the QuickPick's first (newest) item once it is open.
    while (!settled) {
      await wait(300);
      if (!settled) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    const done = (await running) as { runFolder: string } | undefined;
    assert.ok(done, `the compare ran (notice: ${test.lastNotice()})`);
    const compare = JSON.parse(fs.readFileSync(path.join(done.runFolder, 'compare.json'), 'utf8')) as { keySet: string };
    assert.equal(path.dirname(compare.keySet), second.runFolder, 'the newest key set was offered first');
  });

  test('Generate lens: the run view with a step slider over its timeline', async function () {
    this.timeout(JOB_TIMEOUT_MS);
    const test = await promptLensApi();
    const done = (await withTimeout(runLens(/Generate/) as Promise<{ runId: string } | undefined>, JOB_TIMEOUT_MS, 'the run')) ?? undefined;
    assert.ok(done);
    const state = await withTimeout(test.whenResultsRendered(), 30_000, 'the run view');
    assert.equal(state.mode, 'run');
    assert.equal(state.runId, done.runId);
    assert.equal(state.timelineSteps, 6);
    generatedRunId = done.runId;
  });

  test('closing the results panel and showing it again brings the same run back (read from its folder)', async function () {
    this.timeout(30_000);
    const test = await promptLensApi();
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.label === 'Prompt Lens Results');
    assert.equal(tabs.length, 1, 'one results panel, reused by every job');
    await vscode.window.tabGroups.close(tabs);
    const next = test.nextResultsRender();
    await vscode.commands.executeCommand('promptLens.showResults');
    const state = await withTimeout(next, 20_000, 'the reopened panel to draw');
    assert.equal(state.mode, 'run');
    assert.equal(state.runId, generatedRunId);
    assert.equal(state.imageShown, true);
    assert.equal(state.timelineSteps, 6);
  });

  test('the sidebar run panel lists the run and the key set', async function () {
    this.timeout(30_000);
    const test = await promptLensApi();
    await vscode.commands.executeCommand('promptLens.runPanel.focus');
    const shown = await withTimeout(
      test.whenSidebarRendered((s) => s.history.length >= 1 && s.keySets.length >= 1),
      20_000,
      'the sidebar to list a run and a key set',
    );
    suiteLog(`    sidebar: ${shown.history.length} run(s), key sets ${shown.keySets.join(', ')}, model ${shown.model}`);
    assert.ok(shown.history.some((id) => /a-red-circle-and-a-blue-square/.test(id)));
    assert.match(shown.model ?? '', /tiny-shapes on cpu/);
    // Back to the editor for the next test.
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: false });
  });

  test('cancel through the status bar item\'s command: the run stops and no run folder is written', async function () {
    this.timeout(60_000);
    const test = await promptLensApi();
    const cancelUri = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, 'cancel', 'long.prompt');
    await vscode.workspace.fs.writeFile(cancelUri, Buffer.from(`---\nsteps: 400\nseed: 2\n---\n${PROMPT}\n`));
    const cancelRuns = path.join(path.dirname(cancelUri.fsPath), 'runs');
    const running = vscode.commands.executeCommand('promptLens.generate', cancelUri, 4);
    const status = await until('the status bar to show a step', () => {
      const text = test.statusText();
      return text && /step \d+\/400/.test(text) ? text : undefined;
    });
    assert.match(status, /^\$\(sync~spin\) Prompt Lens: step \d+\/400/);
    await vscode.commands.executeCommand('promptLens.cancel');
    const done = await withTimeout(Promise.resolve(running), 30_000, 'the cancelled run to end');
    assert.equal(done, undefined, 'a cancelled run returns nothing');
    assert.equal(test.statusText(), undefined, 'the status bar item is gone');
    assert.deepEqual(fs.existsSync(cancelRuns) ? fs.readdirSync(cancelRuns) : [], [], 'no run folder (not even a partial one)');
  });

  test('cancelling a Finetune while it trains writes no folder', async function () {
    this.timeout(60_000);
    const test = await promptLensApi();
    const before = folders(runsDir);
    const running = Promise.resolve(vscode.commands.executeCommand('promptLens.finetune', uri, line, { steps: 400 }));
    await until('the status bar to show a training step', () => {
      const text = test.statusText();
      return text && /Finetune step \d+\/400/.test(text) ? text : undefined;
    });
    await vscode.commands.executeCommand('promptLens.cancel');
    assert.equal(await withTimeout(running, 30_000, 'the cancelled finetune to end'), undefined);
    assert.deepEqual(fs.readdirSync(runsDir).sort(), before.sort(), 'nothing new, not even a partial folder');
  });
});
