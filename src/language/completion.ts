// Completion glue: the items come from completionLogic.ts.
import * as vscode from 'vscode';
import { completionsAt, type LangCompletion } from './completionLogic';
import { documentModel } from './documentModel';
import type { ModelService } from './modelService';
import { frontMatterLines, splitLines } from './promptText';

const KIND: Record<LangCompletion['kind'], vscode.CompletionItemKind> = {
  setting: vscode.CompletionItemKind.Property,
  value: vscode.CompletionItemKind.Value,
  word: vscode.CompletionItemKind.Text,
};

export const TRIGGER_CHARACTERS = [':', '['];

export class PromptCompletion implements vscode.CompletionItemProvider {
  constructor(private readonly models: ModelService) {}

  async provideCompletionItems(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.CompletionItem[] | undefined> {
    const lines = splitLines(document.getText());
    const front = frontMatterLines(lines);
    const inFront = front !== undefined && position.line <= front.end;
    // Only prompt lines need the model; front matter completes from the parser's tables.
    const vocabulary = inFront ? undefined : await this.vocabulary(document);
    const result = completionsAt(lines, position.line, position.character, { modelNames: this.models.builtinNames(), vocabulary });
    if (!result) return undefined;
    const range = new vscode.Range(position.line, result.replaceFrom, position.line, position.character);
    return result.items.map((item) => {
      const out = new vscode.CompletionItem(item.label, KIND[item.kind]);
      out.insertText = item.insertText;
      out.range = range;
      if (item.detail) out.detail = item.detail;
      if (item.documentation) out.documentation = new vscode.MarkdownString(item.documentation);
      if (item.sortText) out.sortText = item.sortText;
      if (item.suggestValues) out.command = { title: 'Suggest values', command: 'editor.action.triggerSuggest' };
      return out;
    });
  }

  private async vocabulary(document: vscode.TextDocument): Promise<string[] | undefined> {
    const { lookup } = await documentModel(this.models, document);
    return lookup?.kind === 'ok' ? lookup.model.closedVocabulary : undefined;
  }
}
