/**
 * A small well-formedness check for the XML we write (no DOCTYPE, CDATA or processing
 * instructions; comments are skipped): tags balance, one root, quoted attributes (either quote,
 * as RDKit's depictions use single ones), only the five predefined entities and numeric ones,
 * nothing but whitespace outside the root. Returns how often each element occurs.
 */
export function checkXml(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const stack: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/y;
  const checkChars = (s: string): void => {
    if (/[<>]/.test(s)) throw new Error(`stray markup character in ${JSON.stringify(s.slice(0, 60))}`);
    for (const m of s.matchAll(/&([^;\s]*);?/g)) {
      if (!/^&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);$/.test(m[0])) throw new Error(`bad entity ${m[0]}`);
    }
  };
  let at = 0;
  while (at < text.length) {
    const next = text.indexOf('<', at);
    const between = text.slice(at, next < 0 ? text.length : next);
    checkChars(between);
    if (stack.length === 0 && between.trim() !== '') throw new Error(`text outside the root: ${JSON.stringify(between.slice(0, 60))}`);
    if (next < 0) break;
    if (text.startsWith('<!--', next)) {
      const end = text.indexOf('-->', next + 4);
      if (end < 0) throw new Error(`unclosed comment at ${next}`);
      at = end + 3;
      continue;
    }
    tag.lastIndex = next;
    const m = tag.exec(text);
    if (m === null) throw new Error(`malformed tag at ${next}: ${JSON.stringify(text.slice(next, next + 60))}`);
    const [whole, closing, name, attrs, selfClosing] = m;
    for (const value of attrs.matchAll(/"([^"]*)"|'([^']*)'/g)) checkChars(value[1] ?? value[2]);
    if (closing) {
      if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element`);
    } else {
      if (stack.length === 0) roots++;
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (!selfClosing) stack.push(name);
    }
    at = next + whole.length;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return counts;
}
