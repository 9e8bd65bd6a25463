export { ClipTokenizer, TOKENIZER_FILE_LIMIT, type ClipTokenizerOptions, type Token, type TokenizedText } from './clipTokenizer';
export { parseMerges } from './bpe';
export { byteCharsInVocabOrder } from './byteLevel';
