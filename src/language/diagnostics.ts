// Diagnostics as you type: debounced per document, cleared on close. The checks live in
// diagnosticsLogic.ts; this maps them to vscode and offers the vocabulary quick fixes.
import * as vscode from 'vscode';
import { Disposable } from '../disposable';
import { LANGUAGE_ID } from '../ids';
import { computeDiagnostics, type LangDiagnostic } from './diagnosticsLogic';
import { documentModel } from './documentModel';
import type { ModelService } from './modelService';
import { matchCase, vocabularySuggestions } from './vocabulary';

const DELAY_MS = 300;
const SEVERITY: Record<LangDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
};

export class PromptDiagnostics extends Disposable {
  private readonly collection = this._register(vscode.languages.createDiagnosticCollection(LANGUAGE_ID));
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Per document: a counter so a slow check never overwrites a newer one. */
  private readonly generation = new Map<string, number>();

  constructor(
    private readonly models: ModelService,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
  }

  schedule(document: vscode.TextDocument, delay = DELAY_MS): void {
    if (document.languageId !== LANGUAGE_ID) return;
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.refresh(document);
      }, delay),
    );
  }

  async refresh(document: vscode.TextDocument): Promise<void> {
    const key = document.uri.toString();
    const generation = (this.generation.get(key) ?? 0) + 1;
    this.generation.set(key, generation);
    try {
      const state = await documentModel(this.models, document);
      if (this.generation.get(key) !== generation || document.isClosed) return;
      const found = computeDiagnostics(state.parsed, state.lines, state.request && state.lookup ? { request: state.request, lookup: state.lookup } : undefined);
      const diagnostics = found.map((d) => {
        const range = new vscode.Range(d.line, d.column, d.endLine, d.endColumn);
        const diagnostic = new vscode.Diagnostic(range, d.message, SEVERITY[d.severity]);
        diagnostic.source = 'Prompt Lens';
        diagnostic.code = d.code;
        return diagnostic;
      });
      this.collection.set(document.uri, diagnostics);
    } catch (error) {
      this.log.error(`Prompt Lens: checking ${document.uri.fsPath} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  forget(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.generation.set(key, (this.generation.get(key) ?? 0) + 1);
    this.collection.delete(document.uri);
  }

  override dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    super.dispose();
  }
}

/**
 * "Replace with …" quick fixes for words outside a closed vocabulary, computed from the text under
 * the diagnostic now (its range may have moved since the check ran), and for every check that asks
 * "did you mean …?" (a misspelt setting name).
 */
export class VocabularyQuickFix implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly models: ModelService) {}

  async provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): Promise<vscode.CodeAction[]> {
    const codeOf = (d: vscode.Diagnostic): unknown => (typeof d.code === 'object' ? d.code.value : d.code);
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      const meant = codeOf(diagnostic) !== 'out-of-vocabulary' ? /did you mean "([^"]+)"\?/.exec(diagnostic.message)?.[1] : undefined;
      if (!meant) continue;
      const action = new vscode.CodeAction(`Replace with "${meant}"`, vscode.CodeActionKind.QuickFix);
      action.edit = new vscode.WorkspaceEdit();
      action.edit.replace(document.uri, diagnostic.range, meant);
      action.diagnostics = [diagnostic];
      action.isPreferred = true;
      actions.push(action);
    }
    const wanted = context.diagnostics.filter((d) => codeOf(d) === 'out-of-vocabulary');
    if (wanted.length === 0) return actions;
    const { lookup } = await documentModel(this.models, document);
    const vocabulary = lookup?.kind === 'ok' ? lookup.model.closedVocabulary : undefined;
    if (!vocabulary) return actions;
    for (const diagnostic of wanted) {
      const word = document.getText(diagnostic.range);
      if (!/^\p{L}+$/u.test(word)) continue;
      vocabularySuggestions(word, vocabulary).words.forEach((candidate, i) => {
        const replacement = matchCase(word, candidate);
        const action = new vscode.CodeAction(`Replace with "${replacement}"`, vscode.CodeActionKind.QuickFix);
        action.edit = new vscode.WorkspaceEdit();
        action.edit.replace(document.uri, diagnostic.range, replacement);
        action.diagnostics = [diagnostic];
        action.isPreferred = i === 0;
        actions.push(action);
      });
    }
    return actions;
  }
}
