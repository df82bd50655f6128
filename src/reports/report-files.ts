import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { FORMAT_FILES, type ReportFormat } from './report.types.js';

/** A file or folder name from an id: letters, digits, `-` and `_` only. */
const safe = (id: string) => id.replace(/[^A-Za-z0-9_-]/g, '_');

/**
 * Report files under REPORTS_DIR: `<account>/<report>/<run>.<ext>`, written to a temporary name
 * and renamed when complete, so a download never sees half a file. Every path read comes from a
 * run record and is checked to stay inside REPORTS_DIR.
 */
@Injectable()
export class ReportFiles {
  readonly root: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.root = resolve(config.reports.dir);
  }

  /** The path of a run's file (and its email parts), relative to REPORTS_DIR. */
  relativePath(accountId: string, reportId: string, runId: string, format: ReportFormat): string {
    return join(safe(accountId), safe(reportId), `${safe(runId)}.${FORMAT_FILES[format].extension}`);
  }

  /** The absolute path of a stored relative path; refuses anything that leaves REPORTS_DIR. */
  resolve(path: string): string {
    const full = resolve(this.root, path);
    const inside = relative(this.root, full);
    if (isAbsolute(path) || inside.startsWith('..') || isAbsolute(inside) || !full.startsWith(this.root + sep)) {
      throw ApiError.validation([{ field: 'run', message: 'does not name a file of this report' }]);
    }
    return full;
  }

  /** Writes through `write(tmpPath)`, then renames into place; returns the size. */
  async writeAtomically(path: string, write: (tmp: string) => Promise<void>): Promise<number> {
    const full = this.resolve(path);
    await mkdir(dirname(full), { recursive: true });
    const tmp = `${full}.${process.pid}.tmp`;
    try {
      await write(tmp);
      await rename(tmp, full);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return (await stat(full)).size;
  }

  /** Removes a run's file and its email parts. */
  async removeRun(path: string): Promise<void> {
    const full = this.resolve(path);
    await Promise.all([full, `${full}.email.json`, `${full}.chart.png`].map((p) => rm(p, { force: true })));
  }

  async removeReport(accountId: string, reportId: string): Promise<void> {
    await rm(this.resolve(join(safe(accountId), safe(reportId))), { recursive: true, force: true });
  }
}
