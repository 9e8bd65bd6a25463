/**
 * CLIP's text clean-up (basic_clean + whitespace_clean + lower) that remembers, for every UTF-16
 * unit of the cleaned text, the span of the original text it came from, so tokens can point back
 * at the characters the user typed.
 */
export interface MappedText {
  text: string;
  /** Per code unit of `text`: start and end (exclusive) offsets in the original string. */
  start: number[];
  end: number[];
}

export function cleanText(original: string): MappedText {
  let mapped: MappedText = {
    text: original,
    start: Array.from({ length: original.length }, (_, i) => i),
    end: Array.from({ length: original.length }, (_, i) => i + 1),
  };
  // CLIP unescapes twice, so "&amp;lt;" becomes "<".
  mapped = replaceAll(mapped, ENTITY, unescapeEntity);
  mapped = replaceAll(mapped, ENTITY, unescapeEntity);
  mapped = replaceAll(mapped, /\s+/gu, () => ' ');
  mapped = trim(mapped);
  // Per code point, so a character whose lower case is longer ("İ") still maps to its source.
  // Unlike Python's str.lower(), a word-final capital sigma becomes σ rather than ς.
  return replaceAll(mapped, /[^]/gu, (ch) => ch.toLowerCase());
}

/**
 * The subset of Python's html.unescape that prompts realistically contain: numeric references
 * and the common named ones, with the optional ";" and upper-case forms HTML5 allows. Other
 * named entities are left as typed.
 */
const ENTITY = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|(?:amp|lt|gt|quot|nbsp|AMP|LT|GT|QUOT);?|apos;)/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function unescapeEntity(match: string): string {
  const body = match.slice(1).replace(/;$/, '');
  if (!body.startsWith('#')) return NAMED[body.toLowerCase()];
  const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
  // Like Python: NUL, surrogates and numbers past U+10FFFF become U+FFFD.
  return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : '\ufffd';
}

/** Replaces every match; each unit of a replacement maps to the whole span of what it replaced. */
function replaceAll(input: MappedText, pattern: RegExp, replace: (match: string) => string): MappedText {
  const out: MappedText = { text: '', start: [], end: [] };
  const parts: string[] = [];
  let last = 0;
  const copy = (from: number, to: number): void => {
    parts.push(input.text.slice(from, to));
    for (let i = from; i < to; i++) {
      out.start.push(input.start[i]);
      out.end.push(input.end[i]);
    }
  };
  for (const m of input.text.matchAll(pattern)) {
    const from = m.index;
    const to = from + m[0].length;
    copy(last, from);
    const r = replace(m[0]);
    parts.push(r);
    for (let i = 0; i < r.length; i++) {
      out.start.push(input.start[from]);
      out.end.push(input.end[to - 1]);
    }
    last = to;
  }
  copy(last, input.text.length);
  out.text = parts.join('');
  return out;
}

function trim(input: MappedText): MappedText {
  const from = input.text.length - input.text.trimStart().length;
  const to = input.text.trimEnd().length;
  if (to <= from) return { text: '', start: [], end: [] };
  return { text: input.text.slice(from, to), start: input.start.slice(from, to), end: input.end.slice(from, to) };
}
