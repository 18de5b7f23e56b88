import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The README's commands are true: every `npx dgmg-pipe ...` in it names a command and options that
 * the command's --help lists, with its positional arguments; the short ones run as written (in a
 * folder that sees the repository's models/, configs/ and test/), and the eval example prints
 * what the README shows.
 */

const ROOT = resolve(__dirname, '..', '..');
const CLI = resolve(__dirname, '..', 'bin', 'dgmg-pipe.js');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The lines of the README's fenced code blocks, and its prose with the blocks taken out. */
function split(text: string): { code: string[]; prose: string } {
  const code: string[] = [];
  const prose: string[] = [];
  let inBlock = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) inBlock = !inBlock;
    else (inBlock ? code : prose).push(line);
  }
  return { code, prose: prose.join('\n') };
}

/** Every command the README gives: code lines and inline code spans (joined across line breaks) that start with `npx dgmg-pipe` or `dgmg-pipe`. */
export function readmeCommands(text: string): string[] {
  const { code, prose } = split(text);
  const spans = [...prose.replace(/\n/g, ' ').matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  return [...code.map((l) => l.replace(/\s+#.*$/, '')), ...spans].map((l) => l.trim()).filter((l) => /^(npx )?dgmg-pipe\b/.test(l));
}

interface Parsed {
  readonly command: string[];
  readonly flags: string[];
  readonly positionals: string[];
  readonly values: Readonly<Record<string, string>>;
  readonly help: string;
}

const helps = new Map<string, string>();
function helpOf(command: readonly string[]): string {
  const key = command.join(' ');
  if (!helps.has(key)) helps.set(key, spawnSync(process.execPath, [CLI, ...command, '--help'], { encoding: 'utf8' }).stdout);
  return helps.get(key) ?? '';
}

/** A command line read against its --help: which options take a value is what the help says. */
function parse(line: string): Parsed {
  const words = line.split(/\s+/).slice(line.startsWith('npx ') ? 2 : 1);
  const command = words[0] === 'molecules' ? words.slice(0, 2) : words.slice(0, 1);
  const help = helpOf(command);
  const flags: string[] = [];
  const positionals: string[] = [];
  const values: Record<string, string> = {};
  const rest = words.slice(command.length);
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i];
    if (!w.startsWith('-')) {
      positionals.push(w);
      continue;
    }
    flags.push(w);
    const row = help.split('\n').find((l) => new RegExp(`^\\s*${escape(w)}\\s`).test(l)) ?? '';
    if (!row.includes('[boolean]') && i + 1 < rest.length) values[w] = rest[++i];
  }
  return { command, flags, positionals, values, help };
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');

const commands = readmeCommands(README);

t.test('the README is short and writes every command with npx', async (t) => {
  t.ok(README.split('\n').length <= 250, `${README.split('\n').length} lines`);
  t.ok(commands.length >= 15, `${commands.length} commands found`);
  t.same(commands.filter((c) => !c.startsWith('npx dgmg-pipe ')), [], 'a bare `dgmg-pipe` is "command not found" after npm ci');
});

t.test("every command's options and positionals are those its --help lists", async (t) => {
  for (const line of commands) {
    const p = parse(line);
    t.match(p.help, new RegExp(`^dgmg-pipe ${escape(p.command.join(' '))}\\b`), `${line}: a command (${p.command.join(' ')})`);
    for (const f of p.flags) t.match(p.help, new RegExp(`^\\s*${escape(f)}\\s`, 'm'), `${line}: ${f} is an option of ${p.command.join(' ')}`);
    const usage = p.help.split('\n')[0];
    t.equal(p.positionals.length, (usage.match(/<[^>]+>/g) ?? []).length, `${line}: positionals as the usage line ${usage}`);
  }
});

/** Commands that finish in seconds: they run as written. Training, worker hosts and a molecule model's eval are long or need a server. */
function isShort(p: Parsed): boolean {
  const name = p.command.join(' ');
  if (!['sample', 'draw', 'animate', 'eval', 'molecules survey', 'molecules export'].includes(name)) return false;
  if (name === 'eval' && p.values['--model'] !== undefined && p.values['--model'] !== 'models/cycles.json') return false;
  const inputs = [p.values['--model'], ...(name.startsWith('molecules') ? p.positionals.slice(0, 1) : [])].filter((x): x is string => x !== undefined);
  return inputs.every((f) => existsSync(join(ROOT, f)));
}

t.test('the short commands run as written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dgmg-readme-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const folder of ['models', 'configs', 'test']) symlinkSync(join(ROOT, folder), join(dir, folder));
  const short = commands.map((line) => ({ line, p: parse(line) })).filter(({ p }) => isShort(p));
  t.ok(short.length >= 6, `${short.length} of ${commands.length} commands run`);
  let examples = 0;
  for (const { line, p } of short) {
    const r = spawnSync(process.execPath, [CLI, ...line.split(/\s+/).slice(2)], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
    t.equal(r.status, 0, `${line}: ${r.stderr.trim()}`);
    const out = p.values['--out'] ?? p.positionals[1];
    if (out !== undefined) t.ok(existsSync(join(dir, out)), `${line}: wrote ${out}`);
    // an example's output is the code block right after the command's own
    const shown = README.split(`\n${line}\n\`\`\`\n\n\`\`\`\n`)[1]?.split('\n```')[0];
    if (shown !== undefined) {
      examples++;
      const machineRows = /^(seconds|workers) /;
      const rows = (text: string): string[] => text.trimEnd().split('\n').filter((l) => !machineRows.test(l));
      t.same(rows(r.stdout), rows(shown), `${line}: prints what the README shows`);
    }
  }
  t.ok(examples >= 1, `${examples} example outputs compared`);
});
