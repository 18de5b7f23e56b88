/**
 * RDKit MinimalLib in the page: the bundle's `@rdkit/rdkit` (pipeline/molecules.ts's loader).
 * RDKit_minimal.js and .wasm are served beside the page and loaded on first use only (7 MB),
 * when a model or file of molecules needs them.
 */
import type { MainModule } from '@rdkit/rdkit';

declare global {
  // What RDKit_minimal.js defines when loaded by a script tag.
  // eslint-disable-next-line no-var
  var initRDKitModule: ((options: { locateFile: (file: string) => string }) => Promise<MainModule>) | undefined;
}

function loadScript(src: string): Promise<void> {
  return new Promise((done, fail) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => done();
    s.onerror = () => fail(new Error(`${src}: could not be loaded`));
    document.head.append(s);
  });
}

export default async function initRDKitModule(): Promise<MainModule> {
  if (!globalThis.initRDKitModule) await loadScript('RDKit_minimal.js');
  const init = globalThis.initRDKitModule;
  if (!init) throw new Error('RDKit_minimal.js did not define initRDKitModule');
  return init({ locateFile: (file) => file });
}
