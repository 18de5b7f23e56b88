/**
 * What the page's bundle gets for Node's built-in modules (node:fs, node:path, node:buffer): the pipeline
 * modules it shares with the command line import them for their file work, which the page never
 * calls (it reads and writes through the browser instead). Any use names the function and fails.
 * A name the shared code newly imports fails the build ("No matching export"), not the page.
 */
const unavailable =
  (name: string) =>
  (..._args: unknown[]): never => {
    throw new Error(`${name}: Node's file functions are not available in a web page`);
  };

export const readFileSync = unavailable('readFileSync');
export const isUtf8 = unavailable('isUtf8');
export const existsSync = unavailable('existsSync');
export const appendFileSync = unavailable('appendFileSync');
export const closeSync = unavailable('closeSync');
export const fsyncSync = unavailable('fsyncSync');
export const mkdirSync = unavailable('mkdirSync');
export const openSync = unavailable('openSync');
export const renameSync = unavailable('renameSync');
export const unlinkSync = unavailable('unlinkSync');
export const writeSync = unavailable('writeSync');
export const join = unavailable('join');
export const dirname = unavailable('dirname');
export const resolve = unavailable('resolve');
