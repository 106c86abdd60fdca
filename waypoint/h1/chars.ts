// Byte classes of RFC 9110/9112 as lookup tables, so the HTTP/1.1 parsers test one byte with one array
// read instead of a regular expression per header (what llhttp does with its tables).

function table(test: (b: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = test(b) ? 1 : 0;
  return t;
}

const TCHAR_PUNCT = "!#$%&'*+-.^_`|~";

/** token characters (header names, methods). */
export const TOKEN = table((b) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || TCHAR_PUNCT.includes(String.fromCharCode(b)));

/** field-value bytes: HTAB, SP, VCHAR, obs-text. No CR, LF, NUL or other control bytes. */
export const FIELD_VALUE = table((b) => b === 0x09 || (b >= 0x20 && b !== 0x7f));

/** request-target bytes: visible ASCII and obs-text; never SP or a control byte. */
export const TARGET = table((b) => b > 0x20 && b !== 0x7f);

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;

/** True when every character of `s` is a token character (names set by filters and upstream). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TOKEN[c] === 0) return false;
  }
  return true;
}

/** True when `s` may be sent as a field value (no CR/LF/NUL: no header injection). */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] === 0) return false;
  }
  return true;
}
