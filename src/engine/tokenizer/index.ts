export { ClipTokenizer, type ClipTokenizerOptions, type Token, type TokenizedText } from './clipTokenizer';
export { parseMerges } from './bpe';
export { byteCharsInVocabOrder } from './byteLevel';
