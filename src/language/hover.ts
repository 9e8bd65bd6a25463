// Hover previews on prompt words: the word's attention overlay and scores from the newest run of
// that exact prompt (runs folder: `promptLens.runsFolder`, default runs/ beside the file), or else
// the word's tokens. The markdown comes from hoverLogic.ts; run records from engine/history.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runsFolderOf } from '../config';
import { latestRunFor, thumbnailPng, wordInRun, type RunSummary, type WordInRun } from '../engine/history';
import { objectLabels, parsePromptFile, type PromptLine } from '../engine/promptFile';
import { COMMANDS } from '../ids';
import { documentModel } from './documentModel';
import { runHoverMarkdown, tokenHoverMarkdown } from './hoverLogic';
import type { ModelService } from './modelService';
import { columnRange, offsetAtColumn, promptColumns, promptOnLine, wordAt } from './promptText';

const THUMBNAIL_SIDE = 128;
const THUMBNAIL_CACHE = 64;

/** The runs folder of a .prompt file: `promptLens.runsFolder` resolved against the file's folder. */
export function runsFolderFor(document: vscode.TextDocument): string | undefined {
  if (document.uri.scheme !== 'file') return undefined;
  return runsFolderOf(document.uri);
}

export class PromptHover implements vscode.HoverProvider {
  /** Thumbnail data URIs by picture path; run pictures never change once written. */
  private readonly thumbnails = new Map<string, string>();

  constructor(
    private readonly models: ModelService,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    const parsed = parsePromptFile(document.getText(), document.uri.fsPath);
    const prompt = promptOnLine(parsed.prompts, position.line);
    if (!prompt) return undefined;
    const columns = promptColumns(prompt.raw);
    const offset = offsetAtColumn(columns, position.character);
    const word = offset >= 0 ? wordAt(prompt.text, offset) : undefined;
    if (!word) return undefined;
    const mark = prompt.objects.find((o) => o.start <= offset && offset < o.end);
    const span = mark ?? word;
    const cols = columnRange(columns, span.start, span.end);
    const range = new vscode.Range(position.line, cols.column, position.line, cols.endColumn);

    const runsDir = runsFolderFor(document);
    let run: RunSummary | undefined;
    if (runsDir) {
      try {
        run = await latestRunFor(runsDir, prompt.text);
      } catch (error) {
        this.log.warn(`Prompt Lens: reading runs in ${runsDir} failed: ${String(error)}`);
      }
    }
    // A mark is looked up by its object label ("circle #2" where two marks share the word), then by its word.
    const label = mark ? objectLabels(prompt.objects)[prompt.objects.indexOf(mark)] : undefined;
    const inRun = run && [label, mark?.word, word.word].map((w) => (w ? wordInRun(run, w) : undefined)).find((w) => w !== undefined);
    if (run && runsDir && inRun) {
      const markdown = new vscode.MarkdownString(
        runHoverMarkdown({ run, word: inRun, thumbnail: await this.thumbnail(inRun), size: THUMBNAIL_SIDE, runsDir }),
      );
      markdown.isTrusted = { enabledCommands: [COMMANDS.openRun] };
      return new vscode.Hover(markdown, range);
    }
    const note = run
      ? `The newest run of this prompt (\`${run.id}\`) has no map for this word.`
      : `No run of this prompt in \`${runsDir ? path.basename(runsDir) : 'runs'}/\` yet: ▶ Generate it to see where this word attends.`;
    return this.tokenHover(document, prompt, span, note, range);
  }

  private async tokenHover(
    document: vscode.TextDocument,
    prompt: PromptLine,
    span: { start: number; end: number },
    note: string,
    range: vscode.Range,
  ): Promise<vscode.Hover | undefined> {
    const { lookup } = await documentModel(this.models, document);
    const text = prompt.text.slice(span.start, span.end);
    if (!lookup || lookup.kind !== 'ok') {
      const why = !lookup ? 'fix the front matter to see its tokens' : lookup.message;
      return new vscode.Hover(new vscode.MarkdownString().appendMarkdown(`**${text.replace(/[\\`*_[\]]/g, '\\$&')}**\n\n`).appendText(why), range);
    }
    const { tokenizer, id } = lookup.model;
    const tokenized = tokenizer.encode(prompt.text);
    const tokens = tokenized.tokens
      .filter((t) => t.wordIndex >= 0 && t.start < span.end && t.end > span.start)
      .map((t) => ({ text: t.text, id: t.id }));
    return new vscode.Hover(
      new vscode.MarkdownString(tokenHoverMarkdown({ word: text, modelId: id, tokens, maxLength: tokenizer.maxLength, note })),
      range,
    );
  }

  private async thumbnail(word: WordInRun): Promise<string | undefined> {
    for (const file of [word.overlay, word.heat]) {
      if (!file) continue;
      const known = this.thumbnails.get(file);
      if (known) return known;
      try {
        const png = thumbnailPng(await fs.readFile(file), THUMBNAIL_SIDE);
        const uri = `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
        if (this.thumbnails.size >= THUMBNAIL_CACHE) this.thumbnails.delete(this.thumbnails.keys().next().value as string);
        this.thumbnails.set(file, uri);
        return uri;
      } catch (error) {
        this.log.debug(`Prompt Lens: no thumbnail from ${file}: ${String(error)}`);
      }
    }
    return undefined;
  }
}
