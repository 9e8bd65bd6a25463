const WORD_END = '</w>';
const CACHE_LIMIT = 20000;

/**
 * CLIP's byte-pair encoding of one pre-tokenized word (already in byte characters): `</w>` is
 * glued to the last character, then the lowest-ranked adjacent pair is merged until no pair
 * has a rank. Results are cached per word, as CLIP does.
 */
export class Bpe {
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, string[]>();

  /** merges: "first second" lines in rank order (merges.txt without its #version header). */
  constructor(merges: readonly string[], private readonly preset: readonly string[] = []) {
    // Like CLIP's dict(zip(merges, range(...))), a repeated pair keeps its last rank.
    merges.forEach((line, rank) => this.ranks.set(pairKeyOfLine(line), rank));
    this.resetCache();
  }

  encode(word: string): string[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    const pieces = this.merge(word);
    if (this.cache.size >= CACHE_LIMIT) this.resetCache();
    this.cache.set(word, pieces);
    return pieces;
  }

  private resetCache(): void {
    this.cache.clear();
    // Special tokens typed in the text stay whole, as in CLIP's pre-filled cache.
    for (const token of this.preset) this.cache.set(token, [token]);
  }

  private merge(word: string): string[] {
    const chars = Array.from(word);
    let symbols = [...chars.slice(0, -1), chars[chars.length - 1] + WORD_END];
    while (symbols.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < symbols.length - 1; i++) {
        const rank = this.ranks.get(symbols[i] + ' ' + symbols[i + 1]);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const first = symbols[best];
      const second = symbols[best + 1];
      // Merge every non-overlapping occurrence of the pair, left to right.
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i < symbols.length - 1 && symbols[i] === first && symbols[i + 1] === second) {
          merged.push(first + second);
          i++;
        } else {
          merged.push(symbols[i]);
        }
      }
      symbols = merged;
    }
    return symbols;
  }
}

function pairKeyOfLine(line: string): string {
  const parts = line.trim().split(/\s+/);
  if (parts.length !== 2) throw new Error(`bad merge line "${line}": expected two symbols`);
  return parts[0] + ' ' + parts[1];
}

/** Merge lines of a merges.txt: drops the "#version" header and blank lines. */
export function parseMerges(text: string): string[] {
  return text.split(/\r?\n/).filter((line, i) => line.trim() !== '' && !(i === 0 && line.startsWith('#version')));
}

/** Number of input characters a BPE piece covers (`</w>` covers none). */
export function pieceLength(piece: string): number {
  return piece.endsWith(WORD_END) ? piece.length - WORD_END.length : piece.length;
}
