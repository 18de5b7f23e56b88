import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** A file that could not be written; the message names it and the system's reason (ENOSPC, EACCES, ...). */
export class FileWriteError extends Error {
  constructor(file: string, what: string, cause: unknown) {
    super(`${file}: could not write ${what}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'FileWriteError';
  }
}

/**
 * Temporary files not yet committed or aborted. A process that exits in the middle (a second
 * Ctrl-C exits at once) removes them on its way out, so no `.tmp-<pid>` outlives it.
 */
const uncommitted = new Set<string>();
let removeOnExit = false;

function track(tmp: string): void {
  if (!removeOnExit) {
    removeOnExit = true;
    process.on('exit', () => {
      for (const f of uncommitted) unlinkQuietly(f);
    });
  }
  uncommitted.add(tmp);
}

/** Removes `file` if it is there (renamed, or never created, is fine). */
function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/**
 * A file written into a temporary file beside it and renamed over it only once every byte is
 * written and flushed, so a reader (or the next run) sees the old file or the whole new one, never
 * a part. Every failure removes the temporary file and throws a FileWriteError.
 */
export class AtomicFile {
  private readonly tmp: string;
  private fd: number | null;

  /** Opens the temporary file now, so that an unwritable place fails before any work is done. */
  constructor(
    readonly file: string,
    private readonly what: string,
  ) {
    this.tmp = `${file}.tmp-${process.pid}`;
    try {
      mkdirSync(dirname(file), { recursive: true });
      this.fd = openSync(this.tmp, 'w');
      track(this.tmp);
    } catch (e) {
      throw new FileWriteError(file, what, e);
    }
  }

  /** Appends `data`; writeSync may write fewer bytes than asked (a full disk), so it loops until all are written. */
  append(data: string | Uint8Array): void {
    const fd = this.open();
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    try {
      for (let at = 0; at < bytes.length; ) {
        const n = writeSync(fd, bytes, at, bytes.length - at);
        if (n <= 0) throw new Error(`wrote ${at} of ${bytes.length} bytes, then none`);
        at += n;
      }
    } catch (e) {
      this.fail(e);
    }
  }

  /** Flushes the data, renames the file into place and flushes the folder, so the rename survives a crash too. */
  commit(): void {
    const fd = this.open();
    try {
      fsyncSync(fd);
      closeSync(fd);
      this.fd = null;
      renameSync(this.tmp, this.file);
      uncommitted.delete(this.tmp);
    } catch (e) {
      this.fail(e);
    }
    try {
      const dir = openSync(dirname(this.file), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch (e) {
      // The file is in place; only its durability across a power cut is unknown. Some file
      // systems refuse fsync on a folder (EINVAL, EISDIR): nothing more can be done there.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw new FileWriteError(this.file, this.what, e);
    }
  }

  /** Gives up: closes and removes the temporary file; the file itself is left as it was. */
  abort(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // already unusable; the unlink below is what matters
      }
      this.fd = null;
    }
    unlinkQuietly(this.tmp);
    uncommitted.delete(this.tmp);
  }

  private open(): number {
    if (this.fd === null) throw new Error(`${this.file}: written after it was committed or aborted`);
    return this.fd;
  }

  private fail(e: unknown): never {
    this.abort();
    throw new FileWriteError(this.file, this.what, e);
  }
}

/** Writes `data` to `file` atomically (see AtomicFile); `what` names the contents in an error. */
export function writeFileAtomic(file: string, data: string, what = 'file'): void {
  const f = new AtomicFile(file, what);
  f.append(data);
  f.commit();
}
