// A CLIP tokenisation made by hand, for tests of the attention analysis: one token per word.
import type { TokenizedText } from '../../src/engine/tokenizer';

/**
 * Start, one token per word (`[text, start, end]` in the prompt; ids 1, 2, …), end, then end tokens as padding up
 * to `padded` positions.
 */
export function fakeTokenized(words: readonly (readonly [string, number, number])[], padded = words.length + 2): TokenizedText {
  const end = words.length > 0 ? words[words.length - 1][2] : 0;
  const endToken = { id: 11, text: '<|endoftext|>', wordIndex: -1, start: end, end };
  const tokens = [
    { id: 10, text: '<|startoftext|>', wordIndex: -1, start: 0, end: 0 },
    ...words.map(([text, start, stop], i) => ({ id: i + 1, text: `${text}</w>`, wordIndex: i, start, end: stop })),
    ...Array.from({ length: padded - words.length - 1 }, () => ({ ...endToken })),
  ];
  return { ids: Int32Array.from(tokens, (t) => t.id), length: words.length + 2, truncated: false, tokens };
}
