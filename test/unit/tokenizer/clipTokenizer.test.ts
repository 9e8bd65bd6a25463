import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ClipTokenizer, byteCharsInVocabOrder, type ClipTokenizerOptions } from '../../../src/engine/tokenizer';

/** Real CLIP has 48894 merges, so its vocabulary is 512 byte tokens + merges + 2 specials = 49408. */
const CLIP_MERGES = 48894;

/**
 * A vocabulary laid out exactly like CLIP's (byte chars, byte chars + </w>, one token per merge,
 * <|startoftext|>, <|endoftext|>) with the given merges at the given ranks and unique filler
 * merges of unprintable bytes elsewhere, so real CLIP ids come out where the real merges sit.
 */
function clipLikeVocab(placed: Record<number, string>): Pick<ClipTokenizerOptions, 'vocab' | 'merges'> {
  const bytes = byteCharsInVocabOrder();
  const filler = bytes.slice(188); // the 68 remapped, unprintable bytes
  const merges: string[] = [];
  for (let i = 0; i < CLIP_MERGES; i++) {
    const f = (k: number): string => filler[k % 64];
    merges.push(placed[i] ?? `${f(i)}${f(i >> 6)} ${f(i >> 12)}${filler[64]}`);
  }
  const tokens = [...bytes, ...bytes.map((b) => b + '</w>'), ...merges.map((m) => m.replace(' ', '')), '<|startoftext|>', '<|endoftext|>'];
  return { vocab: Object.fromEntries(tokens.map((t, i) => [t, i])), merges };
}

// Ranks chosen so the words get their real CLIP ids: id = 512 + rank.
const REAL = clipLikeVocab({
  27: 'o f</w>', // of</w> = 539
  100: 'p h',
  200: 'ph o',
  300: 't o</w>',
  613: 'pho to</w>', // photo</w> = 1125
  400: 'c a',
  1856: 'ca t</w>', // cat</w> = 2368
  500: "' s</w>",
});

const tokenizer = new ClipTokenizer(REAL);
const texts = (text: string): string[] => tokenizer.encode(text).tokens.slice(1, -1).map((t) => t.text);
const spans = (text: string): [number, number][] => tokenizer.encode(text).tokens.slice(1, -1).map((t) => [t.start, t.end]);

describe('ClipTokenizer ids', () => {
  test('"a photo of a cat" gives the real CLIP ids, padded with <|endoftext|>', () => {
    const t = tokenizer.encode('a photo of a cat');
    assert.equal(t.ids.length, 77);
    assert.deepEqual(Array.from(t.ids.subarray(0, 7)), [49406, 320, 1125, 539, 320, 2368, 49407]);
    assert.ok(t.ids.subarray(7).every((id) => id === 49407));
    assert.equal(t.length, 7);
    assert.equal(t.tokens.length, 7);
    assert.equal(t.truncated, false);
    assert.deepEqual(t.tokens.map((x) => x.wordIndex), [-1, 0, 1, 2, 3, 4, -1]);
    assert.equal(tokenizer.vocabSize, 49408);
    assert.deepEqual([tokenizer.startId, tokenizer.endId, tokenizer.padId], [49406, 49407, 49407]);
  });

  test('case and whitespace are cleaned like CLIP', () => {
    assert.deepEqual(tokenizer.encode('  A \n PHOTO\tof a Cat ').ids, tokenizer.encode('a photo of a cat').ids);
  });

  test('punctuation is its own word with byte ids (",</w>" = 267, ".</w>" = 269 as in CLIP)', () => {
    const t = tokenizer.encode('cat, photo.');
    assert.deepEqual(Array.from(t.ids.subarray(0, 6)), [49406, 2368, 267, 1125, 269, 49407]);
    assert.deepEqual(texts('a cat!!'), ['a</w>', 'cat</w>', '!', '!</w>']);
  });

  test('unknown words fall back to byte pieces', () => {
    assert.deepEqual(texts('zebra'), ['z', 'e', 'b', 'r', 'a</w>']);
    assert.deepEqual(texts('scat'), ['s', 'cat</w>']);
    assert.equal(tokenizer.encode('zebra').ids[5], 320);
  });

  test("apostrophe suffixes split like CLIP ('s, 't)", () => {
    assert.deepEqual(texts("cat's"), ['cat</w>', "'s</w>"]);
    assert.deepEqual(texts("can't"), ['ca', 'n</w>', "'", 't</w>']);
  });

  test('digits are one word each', () => {
    const t = tokenizer.encode('12 cats');
    assert.deepEqual(t.tokens.slice(1, 3).map((x) => [x.text, x.wordIndex]), [['1</w>', 0], ['2</w>', 1]]);
  });

  test('typed special tokens stay whole', () => {
    assert.deepEqual(Array.from(tokenizer.encode('cat<|endoftext|>').ids.subarray(0, 4)), [49406, 2368, 49407, 49407]);
  });

  test('truncation keeps the end token last', () => {
    const small = new ClipTokenizer({ ...REAL, maxLength: 6 });
    const t = small.encode('a photo of a cat a cat');
    assert.deepEqual(Array.from(t.ids), [49406, 320, 1125, 539, 320, 49407]);
    assert.equal(t.length, 6);
    assert.equal(t.truncated, true);
  });

  test('SD2-style "!" padding', () => {
    const sd2 = new ClipTokenizer({ ...REAL, padToken: '!', maxLength: 10 });
    assert.equal(sd2.padId, 0);
    assert.deepEqual(Array.from(sd2.encode('a cat').ids), [49406, 320, 2368, 49407, 0, 0, 0, 0, 0, 0]);
  });

  test('missing special tokens are reported', () => {
    assert.throws(() => new ClipTokenizer({ ...REAL, padToken: '<pad>' }), /pad token "<pad>" is not in the vocabulary/);
  });
});

describe('ClipTokenizer offsets', () => {
  test('tokens point at the original characters', () => {
    const text = ' A photo of a CAT';
    assert.deepEqual(spans(text), [[1, 2], [3, 8], [9, 11], [12, 13], [14, 17]]);
    const t = tokenizer.encode(text);
    assert.deepEqual(tokenizer.tokenIndicesForSpan(t, 14, 17), [5]);
    assert.deepEqual(tokenizer.tokenIndicesForSpan(t, 3, 11), [2, 3]);
    assert.deepEqual(tokenizer.tokenIndicesForSpan(t, 0, 1), []);
  });

  test('a word split in pieces maps every piece to its characters', () => {
    const t = tokenizer.encode('a zebra');
    assert.deepEqual(spans('a zebra'), [[0, 1], [2, 3], [3, 4], [4, 5], [5, 6], [6, 7]]);
    assert.deepEqual(tokenizer.tokenIndicesForSpan(t, 2, 7), [2, 3, 4, 5, 6]);
  });

  test('multi-byte characters: pieces of one character share its span', () => {
    assert.deepEqual(texts('café'), ['ca', 'f', 'Ã', '©</w>']);
    assert.deepEqual(spans('café'), [[0, 2], [2, 3], [3, 4], [3, 4]]);
    const emoji = tokenizer.encode('cat 🐱');
    assert.equal(emoji.length, 2 + 1 + 4);
    assert.ok(emoji.tokens.slice(2, 6).every((x) => x.start === 4 && x.end === 6));
  });

  test('HTML entities are unescaped (twice) and map to the whole entity', () => {
    assert.deepEqual(texts('cat &amp; photo'), ['cat</w>', '&</w>', 'photo</w>']);
    assert.deepEqual(spans('cat &amp; photo')[1], [4, 9]);
    assert.deepEqual(texts('&amp;lt;'), ['<</w>']);
    assert.deepEqual(texts('&#99;at'), ['cat</w>']);
    assert.deepEqual(texts('&#x63;at &LT; &amp'), ['cat</w>', '<</w>', '&</w>']);
    // Named entities outside the common few stay as typed (Python would give ©).
    assert.deepEqual(texts('&copy;'), ['&</w>', 'c', 'o', 'p', 'y</w>', ';</w>']);
  });

  test('empty input is start and end only', () => {
    const t = tokenizer.encode('   ');
    assert.equal(t.length, 2);
    assert.deepEqual(t.tokens.map((x) => x.wordIndex), [-1, -1]);
  });
});

describe('ClipTokenizer helpers', () => {
  test('decodeToken', () => {
    assert.equal(tokenizer.decodeToken(2368), 'cat');
    assert.equal(tokenizer.decodeToken(1125 - 613 + 100), 'ph');
    assert.equal(tokenizer.decodeToken(49406), '<|startoftext|>');
    assert.equal(tokenizer.decodeToken(tokenizer.encode('é').ids[1]), '\ufffd');
    assert.throws(() => tokenizer.decodeToken(1e6), RangeError);
  });

  test('has: the whole word is one token', () => {
    assert.equal(tokenizer.has('cat'), true);
    assert.equal(tokenizer.has('Cat'), true);
    assert.equal(tokenizer.has('zebra'), false);
    assert.equal(tokenizer.has('a cat'), false);
  });

  test('fromFolder reads the diffusers tokenizer files', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tok-'));
    await writeFile(path.join(dir, 'vocab.json'), JSON.stringify(REAL.vocab));
    await writeFile(path.join(dir, 'merges.txt'), '#version: 0.2\n' + REAL.merges.join('\n') + '\n');
    await writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 16 }));
    await writeFile(
      path.join(dir, 'special_tokens_map.json'),
      JSON.stringify({ pad_token: '!', eos_token: { content: '<|endoftext|>', lstrip: false } }),
    );
    const t = await ClipTokenizer.fromFolder(dir);
    assert.equal(t.maxLength, 16);
    assert.equal(t.padId, 0);
    assert.deepEqual(Array.from(t.encode('a photo of a cat').ids.subarray(0, 8)), [49406, 320, 1125, 539, 320, 2368, 49407, 0]);
  });

  test('fromFolder names the missing or broken file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tok-'));
    await assert.rejects(ClipTokenizer.fromFolder(dir), /vocab\.json: cannot read/);
    await writeFile(path.join(dir, 'vocab.json'), '{broken');
    await writeFile(path.join(dir, 'merges.txt'), '#version: 0.2\n');
    await assert.rejects(ClipTokenizer.fromFolder(dir), /vocab\.json: invalid JSON/);
    await writeFile(path.join(dir, 'vocab.json'), JSON.stringify({ a: 'zero' }));
    await assert.rejects(ClipTokenizer.fromFolder(dir), /vocabulary entry "a" has id "zero"/);
    await writeFile(path.join(dir, 'vocab.json'), JSON.stringify({ a: 0 }));
    await assert.rejects(ClipTokenizer.fromFolder(dir), /start token "<\|startoftext\|>" is not in the vocabulary/);
  });
});
