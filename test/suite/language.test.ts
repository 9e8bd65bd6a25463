import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeRunRecord } from '../../src/engine/run/saveRun';
import { fakeRunResult } from '../fakes/runResult';
import { EXTENSION_ID } from './extensionApi';
import { suiteLog } from './log';

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await wait(200);
  }
}

function hoverText(hovers: vscode.Hover[]): string {
  return hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n----\n');
}

suite('Language features', () => {
  let uri: vscode.Uri;
  suiteSetup(async () => {
    const folder = vscode.workspace.workspaceFolders![0].uri;
    // Its own folder, so its runs/ holds only the runs this suite writes.
    uri = vscode.Uri.joinPath(folder, 'language', 'lang.prompt');
    await vscode.workspace.fs.writeFile(uri, Buffer.from('---\nmodel: tiny-shapes\nseed: 7\n---\na red [circel] and a blue [square]\na red circle and a blue square\n'));
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
  });

  test('diagnostics and the vocabulary quick fix', async () => {
    const ds = await until('diagnostics', () => {
      const found = vscode.languages.getDiagnostics(uri);
      return found.length > 0 ? found : undefined;
    });
    suiteLog(`    diagnostics: ${ds.map((d) => `${d.range.start.line}:${d.range.start.character} ${d.message}`).join(' | ')}`);
    const oov = ds.find((d) => d.code === 'out-of-vocabulary');
    assert.ok(oov);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, oov.range);
    suiteLog(`    actions: ${actions.map((a) => a.title).join(' | ')}`);
    assert.ok(actions.some((a) => a.title === 'Replace with "circle"'));
  });

  test('completion of model names and words', async () => {
    const model = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, new vscode.Position(1, 7));
    assert.ok(model.items.some((i) => i.label === 'tiny-shapes'), JSON.stringify(model.items.map((i) => i.label)));
    const words = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, new vscode.Position(5, 6));
    suiteLog(`    word items: ${words.items.slice(0, 30).map((i) => (typeof i.label === 'string' ? i.label : i.label.label)).join(', ')}`);
    assert.ok(words.items.some((i) => i.label === 'triangle'));
  });

  test('code lenses follow the setting', async () => {
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10);
    suiteLog(`    lenses: ${lenses.map((l) => `${l.range.start.line} ${l.command?.title}`).join(' | ')}`);
    assert.equal(lenses.length, 6);
    await vscode.workspace.getConfiguration('promptLens').update('codeLens.enabled', false, vscode.ConfigurationTarget.Global);
    const none = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10);
    assert.equal(none.length, 0);
    await vscode.workspace.getConfiguration('promptLens').update('codeLens.enabled', undefined, vscode.ConfigurationTarget.Global);
    // The lenses' commands are real (views.test.ts runs them); here only that they are registered.
    const commands = await vscode.commands.getCommands(true);
    for (const command of ['promptLens.generate', 'promptLens.finetune', 'promptLens.compare']) assert.ok(commands.includes(command), command);
  });

  test('hovers: tokens without a run, overlay and scores with one', async () => {
    const tokens = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(5, 8));
    suiteLog(`    token hover: ${hoverText(tokens).replace(/base64,[A-Za-z0-9+/=]+/, 'base64,…')}`);
    assert.match(hoverText(tokens), /circle<\/w>/);
    await writeRunRecord(fakeRunResult('a red circle and a blue square'), path.join(path.dirname(uri.fsPath), 'runs'));
    const run = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(5, 8));
    const text = hoverText(run);
    suiteLog(`    run hover (${text.length} chars): ${text.replace(/base64,[A-Za-z0-9+/=]+/, 'base64,…')}`);
    assert.match(text, /data:image\/png;base64,/);
    assert.match(text, /activation/);
    assert.match(text, /IoU with square/);
  });
});

suite('Diagnostics on model: with the user\'s models', () => {
  const NAME = 'lang-mine';
  let before: Record<string, string> | undefined;

  suiteSetup(async () => {
    const config = vscode.workspace.getConfiguration('promptLens');
    before = config.inspect<Record<string, string>>('models')?.globalValue;
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    // As Add Model leaves it: a name for a model folder, here the embedded model's own folder.
    await config.update('models', { ...before, [NAME]: path.join(ext.extensionPath, 'models', 'tiny-shapes') }, vscode.ConfigurationTarget.Global);
  });
  suiteTeardown(async () => {
    await vscode.workspace.getConfiguration('promptLens').update('models', before, vscode.ConfigurationTarget.Global);
  });

  async function diagnosticsOf(name: string, text: string): Promise<vscode.Diagnostic[]> {
    const uri = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, 'language', name);
    await vscode.workspace.fs.writeFile(uri, Buffer.from(text));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    // Waiting for the first diagnostic waits for the check: a known model's misspelt word is underlined once
    // the model has loaded, an unknown model's model: at once (and no word, as there is no vocabulary).
    const found = await until(`diagnostics of ${name}`, () => {
      const ds = vscode.languages.getDiagnostics(uri);
      return ds.length > 0 ? ds : undefined;
    });
    suiteLog(`    ${name}: ${found.map((d) => `${d.range.start.line}:${d.range.start.character} ${String(d.code)} ${d.message}`).join(' | ')}`);
    return found;
  }

  test('a model added to promptLens.models is not underlined, and its vocabulary is checked', async () => {
    const ds = await diagnosticsOf('named-model.prompt', `---\nmodel: ${NAME}\n---\na red [circel] and a blue [square]\n`);
    assert.deepEqual(ds.map((d) => d.code), ['out-of-vocabulary'], 'no diagnostic on model:, and the model loaded');
  });

  test('an unknown model name is underlined on model:, naming the user\'s models', async () => {
    const ds = await diagnosticsOf('unknown-model.prompt', '---\nmodel: lang-nowhere\n---\na red [circel] and a blue [square]\n');
    const model = ds.filter((d) => d.code === 'model');
    assert.equal(model.length, 1, 'one diagnostic on model:');
    assert.equal(model[0].range.start.line, 1);
    assert.match(model[0].message, new RegExp(`no model is named "lang-nowhere" \\(embedded: neglect-shapes, tiny-shapes; yours: .*${NAME}`));
  });
});
