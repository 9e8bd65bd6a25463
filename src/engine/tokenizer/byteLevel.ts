/**
 * GPT-2's bytes_to_unicode, which CLIP reuses: every byte maps to a printable character so BPE
 * can work on strings. Printable Latin-1 bytes map to themselves; the other 68 bytes map, in
 * order, to U+0100 and up. The order of this table is also the order of the first 256 entries
 * of CLIP's vocabulary.
 */
export const byteToUnicode: readonly string[] = buildTable();

const unicodeToByte = new Map(byteToUnicode.map((ch, b) => [ch, b]));

function buildTable(): string[] {
  const table = new Array<string>(256);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 256 + next++);
  }
  return table;
}

/** The byte characters in vocabulary order (printable bytes first, then the remapped ones). */
export function byteCharsInVocabOrder(): string[] {
  return [...byteToUnicode].sort((a, b) => vocabRank(a) - vocabRank(b));
}

function vocabRank(ch: string): number {
  const c = ch.charCodeAt(0);
  return c < 256 ? c - 256 : c;
}

/** The bytes behind a string of byte characters, or undefined if it holds any other character. */
export function byteCharsToBytes(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const b = unicodeToByte.get(text[i]);
    if (b === undefined) return undefined;
    bytes[i] = b;
  }
  return bytes;
}
