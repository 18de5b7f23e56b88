import t from 'tap';
import { isUtf8 } from 'node:buffer';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphFormatError } from '../graphs/graph';
import { Rng } from '../graphs/random';
import { readTextFile } from '../pipeline/text';
import { forAll, trials } from './property';

const dir = mkdtempSync(join(tmpdir(), 'dgmg-text-'));
const file = (name: string, bytes: Uint8Array): string => {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
};

t.test('a byte-order mark is dropped; text is read as UTF-8', async (t) => {
  t.equal(readTextFile(file('bom.txt', Buffer.from('\ufeffé\n€ 𝄞\n')), GraphFormatError), 'é\n€ 𝄞\n');
  t.equal(readTextFile(file('plain.txt', Buffer.from('a\n')), GraphFormatError), 'a\n');
  t.equal(readTextFile(file('two-boms.txt', Buffer.from('\ufeff\ufeffa')), GraphFormatError), '\ufeffa', 'only the first is a mark');
  t.throws(() => readTextFile(join(dir, 'missing.txt'), GraphFormatError), new GraphFormatError(join(dir, 'missing.txt'), `cannot read: ENOENT: no such file or directory, open '${join(dir, 'missing.txt')}'`));
});

t.test('malformed UTF-8 is refused at the first byte that starts no valid character', async (t) => {
  // [bytes, offset of the first bad byte]: a lone continuation byte, a cut sequence, an overlong
  // slash, a surrogate, a code point above U+10FFFF, a byte UTF-8 never uses
  const cases: Array<[number[], number]> = [
    [[0x61, 0x80], 1],
    [[0x61, 0x0a, 0x62, 0xe2, 0x82], 3],
    [[0xc0, 0xaf], 0],
    [[0x61, 0xed, 0xa0, 0x80], 1],
    [[0xf4, 0x90, 0x80, 0x80], 0],
    [[0x0a, 0x0a, 0xff], 2],
  ];
  for (const [bytes, offset] of cases) {
    const f = file('bad.txt', Uint8Array.from(bytes));
    const line = bytes.slice(0, offset).filter((b) => b === 0x0a).length + 1;
    t.throws(() => readTextFile(f, GraphFormatError), new GraphFormatError(`${f}:${line}`, `not UTF-8 text: byte 0x${bytes[offset].toString(16)} at offset ${offset} starts no valid character`), JSON.stringify(bytes));
  }
});

t.test('random bytes: accepted exactly when UTF-8 without NUL; refused at a byte before which all is UTF-8', async (t) => {
  const rng = new Rng(8);
  // mostly ASCII with some multi-byte characters, NULs and stray high bytes
  const pieces = [[0x41], [0x0a], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9d, 0x84, 0x9e], [0x00], [0x80], [0xe2, 0x82], [0xff]];
  forAll(t, 'readTextFile agrees with Buffer isUtf8 and the NUL check', trials(400), () => {
    const bytes = Buffer.from(Array.from({ length: rng.int(1, 30) }, () => pieces[rng.int(0, pieces.length - 1)]).flat());
    const good = isUtf8(bytes) && !bytes.includes(0);
    const f = file('random.txt', bytes);
    try {
      const text = readTextFile(f, GraphFormatError);
      return good && text === bytes.toString('utf8') ? null : `accepted ${bytes.toString('hex')}`;
    } catch (e) {
      const m = /:(\d+): .* at offset (\d+)/.exec((e as Error).message);
      if (good || m === null) return `refused ${bytes.toString('hex')}: ${(e as Error).message}`;
      const offset = Number(m[2]);
      const before = bytes.subarray(0, offset);
      if (!isUtf8(before) || before.includes(0)) return `${bytes.toString('hex')}: refused at ${offset}, but the bytes before are not all text`;
      return Number(m[1]) === before.filter((b) => b === 0x0a).length + 1 ? null : `${bytes.toString('hex')}: line ${m[1]} for offset ${offset}`;
    }
  });
});
