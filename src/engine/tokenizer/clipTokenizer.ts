import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { Bpe, parseMerges, pieceLength } from './bpe';
import { byteCharsToBytes, byteToUnicode } from './byteLevel';
import { cleanText } from './normalize';

export interface Token {
  id: number;
  /** The BPE token string as in vocab.json ("cat</w>"). */
  text: string;
  /** Index of the pre-tokenized word it belongs to; -1 for the added start and end tokens. */
  wordIndex: number;
  /** Character span in the original input string (UTF-16 offsets, end exclusive). */
  start: number;
  end: number;
}

export interface TokenizedText {
  /** Start, content, end, then padding; always maxLength long. */
  ids: Int32Array;
  /** Tokens before padding, start and end included (= tokens.length). */
  length: number;
  /** tokens[i] is position i of ids. */
  tokens: Token[];
  /** Whether content tokens were dropped to fit maxLength. */
  truncated: boolean;
}

export interface ClipTokenizerOptions {
  vocab: Record<string, number>;
  /** "first second" lines in rank order, without the #version header. */
  merges: readonly string[];
  maxLength?: number;
  bosToken?: string;
  eosToken?: string;
  /** SD 1.x pads with <|endoftext|>, SD 2.x with "!". */
  padToken?: string;
  unkToken?: string;
}

/** CLIP's split pattern; the input is already lower-cased, so the i flag only mirrors CLIP. */
/** Tokenizer files over this size are refused (CLIP's vocab.json is about 1 MiB, its merges.txt 0.5 MiB). */
export const TOKENIZER_FILE_LIMIT = 16 * 1024 * 1024;

/** model_max_length at or above this means "no limit" (transformers writes int(1e30), VERY_LARGE_INTEGER). */
const NO_LIMIT = 1e9;

class TokenizerFileTooLarge extends Error {}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

const WORD_PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/** CLIP's tokenizer (the one SD 1.x/2.x text encoders were trained with), with character offsets. */
export class ClipTokenizer {
  readonly maxLength: number;
  readonly startId: number;
  readonly endId: number;
  readonly padId: number;
  private readonly unkId: number;
  private readonly vocab: Map<string, number>;
  private readonly decoder: Map<number, string>;
  private readonly bpe: Bpe;

  constructor(options: ClipTokenizerOptions) {
    this.vocab = new Map(Object.entries(options.vocab));
    for (const [token, id] of this.vocab) {
      if (!Number.isInteger(id) || id < 0) throw new Error(`vocabulary entry "${token}" has id ${JSON.stringify(id)}, expected an integer >= 0`);
    }
    this.decoder = new Map([...this.vocab].map(([token, id]) => [id, token]));
    this.maxLength = options.maxLength ?? 77;
    if (!Number.isInteger(this.maxLength) || this.maxLength < 2) {
      throw new RangeError(`model_max_length must be an integer >= 2, got ${this.maxLength}`);
    }
    const idOf = (token: string, role: string): number => {
      const id = this.vocab.get(token);
      if (id === undefined) throw new Error(`the ${role} token "${token}" is not in the vocabulary`);
      return id;
    };
    const bos = options.bosToken ?? '<|startoftext|>';
    const eos = options.eosToken ?? '<|endoftext|>';
    this.startId = idOf(bos, 'start');
    this.endId = idOf(eos, 'end');
    this.padId = idOf(options.padToken ?? eos, 'pad');
    this.unkId = idOf(options.unkToken ?? eos, 'unknown');
    this.bpe = new Bpe(options.merges, [bos, eos]);
  }

  /** Loads vocab.json, merges.txt and the optional tokenizer_config.json / special_tokens_map.json. */
  static async fromFolder(dir: string, textSequenceLength?: number): Promise<ClipTokenizer> {
    const read = async (name: string, optional: boolean): Promise<string | undefined> => {
      const file = path.join(dir, name);
      try {
        // A tokenizer file far over CLIP's size is not CLIP's: refused before it costs minutes and GBs to parse.
        const { size } = await stat(file);
        if (size > TOKENIZER_FILE_LIMIT) {
          throw new TokenizerFileTooLarge(
            `${file} is ${megabytes(size)}; Prompt Lens reads tokenizer files up to ${megabytes(TOKENIZER_FILE_LIMIT)} (CLIP's vocab.json is about 1 MiB): use the export's own CLIP tokenizer`,
          );
        }
        return await readFile(file, 'utf8');
      } catch (e) {
        if (e instanceof TokenizerFileTooLarge) throw e;
        if (optional && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new Error(`${file}: cannot read (${(e as Error).message})`);
      }
    };
    const json = (name: string, text: string | undefined): Record<string, unknown> => {
      if (text === undefined) return {};
      try {
        const value: unknown = JSON.parse(text);
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
      } catch (e) {
        throw new Error(`${path.join(dir, name)}: invalid JSON (${(e as Error).message})`);
      }
      throw new Error(`${path.join(dir, name)}: expected a JSON object`);
    };
    // Read in a fixed order so that, with several files missing, the error always names the first.
    const vocabText = await read('vocab.json', false);
    const mergesText = await read('merges.txt', false);
    const configText = await read('tokenizer_config.json', true);
    const specialText = await read('special_tokens_map.json', true);
    const vocab = json('vocab.json', vocabText);
    const config = json('tokenizer_config.json', configText);
    const special = json('special_tokens_map.json', specialText);
    const written = config.model_max_length;
    if (written !== undefined && typeof written !== 'number') {
      throw new Error(`${path.join(dir, 'tokenizer_config.json')}: "model_max_length" must be a number`);
    }
    // Unset, or Hugging Face's "no limit" (1e30): as many tokens as the text encoder has positions.
    const maxLength = written === undefined || written >= NO_LIMIT ? (textSequenceLength ?? 77) : written;
    // A token entry is a string or an AddedToken object {content: ...}; the special map wins.
    const token = (key: string): string | undefined => {
      for (const source of [special, config]) {
        const v = source[key];
        if (typeof v === 'string') return v;
        if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') {
          return (v as { content: string }).content;
        }
      }
      return undefined;
    };
    try {
      return new ClipTokenizer({
        vocab: vocab as Record<string, number>,
        merges: parseMerges(mergesText ?? ''),
        maxLength,
        bosToken: token('bos_token'),
        eosToken: token('eos_token'),
        padToken: token('pad_token'),
        unkToken: token('unk_token'),
      });
    } catch (e) {
      throw new Error(`${dir}: ${(e as Error).message}`);
    }
  }

  get vocabSize(): number {
    return this.vocab.size;
  }

  /** The largest token id the tokenizer can produce: the text encoder must embed ids up to it. */
  get largestId(): number {
    let largest = 0;
    for (const id of this.vocab.values()) largest = Math.max(largest, id);
    return largest;
  }

  encode(text: string): TokenizedText {
    const clean = cleanText(text);
    const content: Token[] = [];
    let wordIndex = 0;
    for (const match of clean.text.matchAll(WORD_PATTERN)) {
      // Byte characters of the word, and for each the code unit of the cleaned text it came from.
      const units: number[] = [];
      let chars = '';
      for (let i = match.index; i < match.index + match[0].length; ) {
        const cp = clean.text.codePointAt(i) as number;
        const width = cp > 0xffff ? 2 : 1;
        for (const b of utf8.encode(String.fromCodePoint(cp))) {
          chars += byteToUnicode[b];
          units.push(i);
        }
        i += width;
      }
      let at = 0;
      for (const piece of this.bpe.encode(chars)) {
        const n = pieceLength(piece);
        // Both units of a surrogate pair map to the whole character, so the first unit's span suffices.
        content.push({
          id: this.vocab.get(piece) ?? this.unkId,
          text: piece,
          wordIndex,
          start: clean.start[units[at]],
          end: clean.end[units[at + n - 1]],
        });
        at += n;
      }
      wordIndex++;
    }

    const room = this.maxLength - 2;
    const truncated = content.length > room;
    const tokens: Token[] = [
      this.special(this.startId, 0),
      ...content.slice(0, room),
      this.special(this.endId, text.length),
    ];
    const ids = new Int32Array(this.maxLength).fill(this.padId);
    tokens.forEach((t, i) => (ids[i] = t.id));
    return { ids, length: tokens.length, tokens, truncated };
  }

  /** Positions (into ids/tokens) of every content token overlapping the character span [start, end). */
  tokenIndicesForSpan(tokenized: TokenizedText, start: number, end: number): number[] {
    const out: number[] = [];
    tokenized.tokens.forEach((t, i) => {
      if (t.wordIndex >= 0 && t.start < end && t.end > start) out.push(i);
    });
    return out;
  }

  /** Readable text of one token: bytes decoded as UTF-8 (partial characters become U+FFFD), `</w>` dropped. */
  decodeToken(id: number): string {
    const token = this.decoder.get(id);
    if (token === undefined) throw new RangeError(`token id ${id} is not in the vocabulary`);
    const body = token.endsWith('</w>') ? token.slice(0, -4) : token;
    const bytes = byteCharsToBytes(body);
    return bytes ? utf8Decoder.decode(bytes) : token;
  }

  /** Whether the word, cleaned like a prompt, is exactly one vocabulary token. */
  has(word: string): boolean {
    const tokens = this.encode(word).tokens;
    return tokens.length === 3 && this.vocab.has(tokens[1].text);
  }

  private special(id: number, at: number): Token {
    return { id, text: this.decoder.get(id) as string, wordIndex: -1, start: at, end: at };
  }
}
