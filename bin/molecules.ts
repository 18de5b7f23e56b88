#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runMoleculeEvalJsonl, runMoleculeExport, runMoleculeSurvey } from '../pipeline/commands/molecules';

/** Errors of the user's input end the process with their message alone, not a stack. */
async function guarded(work: () => Promise<object>): Promise<void> {
  try {
    process.stdout.write(`${JSON.stringify(await work(), null, 1)}\n`);
  } catch (e) {
    process.stderr.write(`dgmg-molecules: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.DGMG_DEBUG) console.error(e);
    process.exit(1);
  }
}

void yargs(hideBin(process.argv))
  .scriptName('dgmg-molecules')
  .strict()
  .demandCommand(1, 'name a command: survey, export, eval-jsonl')
  .command(
    'survey <file>',
    'Atom and bond types of a .smi or .csv file, and how many molecules each size and type filter keeps',
    (y) => y.positional('file', { type: 'string', demandOption: true }).option('max-types', { type: 'number', default: 12, describe: 'atom types to add one by one' }),
    (a) => guarded(() => runMoleculeSurvey(a.file, a['max-types'])),
  )
  .command(
    'export <file> <out>',
    'Write the molecules a filter keeps as typed JSONL, and the matching config keys',
    (y) =>
      y
        .positional('file', { type: 'string', demandOption: true, describe: '.smi or .csv' })
        .positional('out', { type: 'string', demandOption: true, describe: 'typed JSONL file' })
        .option('types', { type: 'string', demandOption: true, describe: 'atom types, comma-separated, e.g. C,O,N,S,Cl,F,Br,N+,O-' })
        .option('max-atoms', { type: 'number', default: 23, describe: 'most heavy atoms a molecule may have' })
        .option('config-out', { type: 'string', describe: 'where the config keys go (default: <out> with .config.json)' }),
    (a) =>
      guarded(() =>
        runMoleculeExport(a.file, a.out, a['config-out'] ?? a.out.replace(/\.jsonl$/i, '') + '.config.json', a.types.split(',').map((t) => t.trim()).filter((t) => t !== ''), a['max-atoms']),
      ),
  )
  .command(
    'eval-jsonl <samples> <train>',
    'Validity, uniqueness, novelty and type distributions of typed JSONL samples against typed JSONL training molecules',
    (y) =>
      y
        .positional('samples', { type: 'string', demandOption: true })
        .positional('train', { type: 'string', demandOption: true })
        .option('config', { type: 'string', demandOption: true, describe: 'config whose model.nodeTypes and model.edgeTypes name the types (e.g. the one export wrote)' }),
    (a) => guarded(() => runMoleculeEvalJsonl(a.samples, a.train, a.config)),
  )
  .help()
  .parseAsync();
