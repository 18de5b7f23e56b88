import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';

/** How a reader reports a problem of its file: `where` (file, or file:line) and the reason. */
export type InputError = new (where: string, reason: string) => Error;

const BOM = '\ufeff';

/**
 * The offset of the first byte of `b` that does not begin a well-formed UTF-8 character
 * (overlong forms, surrogates and code points above U+10FFFF are malformed, as the Unicode
 * standard says), or -1.
 */
function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    const tail = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (tail < 0) return i;
    // The second byte's range rules out overlong forms (E0, F0), surrogates (ED) and > U+10FFFF (F4).
    const low = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const high = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= tail; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? low : 0x80) || d > (k === 1 ? high : 0xbf)) return i;
    }
    i += tail + 1;
  }
  return -1;
}

/** The 1-based line of byte `offset` of `b`. */
function lineAt(b: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (b[i] === 0x0a) line++;
  return line;
}

/**
 * The text of a UTF-8 file the user gives (graphs, molecules, a config). A byte-order mark at its
 * start is dropped: editors on Windows write one, and it is no part of the first line. A file
 * that is not text, one with a NUL byte or with bytes that are not UTF-8 (a program, an image, a
 * Latin-1 file), is refused at the line of the first such byte rather than read as garbage.
 */
export function readTextFile(file: string, error: InputError): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new error(file, `cannot read: ${(e as Error).message}`);
  }
  const nul = bytes.indexOf(0);
  const invalid = isUtf8(bytes) ? -1 : firstInvalidUtf8(bytes);
  const bad = nul >= 0 && (invalid < 0 || nul < invalid) ? nul : invalid;
  if (bad >= 0) {
    const where = `${file}:${lineAt(bytes, bad)}`;
    if (bad === nul) throw new error(where, `not a text file: a NUL byte at offset ${bad}`);
    throw new error(where, `not UTF-8 text: byte 0x${bytes[bad].toString(16).padStart(2, '0')} at offset ${bad} starts no valid character`);
  }
  const text = bytes.toString('utf8');
  return text.startsWith(BOM) ? text.slice(BOM.length) : text;
}
