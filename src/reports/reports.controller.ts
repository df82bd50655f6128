import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Query, Res, UsePipes } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CurrentAccountId, RequirePermission } from '../accounts/auth.decorators.js';
import { ApiError } from '../common/api-error.js';
import { ifMatchHeader, versionTag } from '../common/entity-tag.js';
import { PageQueryDto } from '../common/page-query.dto.js';
import { SigningService } from '../common/signing/signing.service.js';
import { validateDtos } from '../common/validation.pipe.js';
import { FORMAT_FILES } from './report.types.js';
import { downloadName } from './report-runner.js';
import { ReportDto, ReportReplaceDto } from './reports.dto.js';
import { ReportsRepository } from './reports.repository.js';
import { ReportsService } from './reports.service.js';
import { ReportFiles } from './report-files.js';

/**
 * The Reports API. Admin clients manage definitions and ask for runs; read clients list,
 * read and download. A report's answers carry its ETag (`"<version>"`), which PUT takes in
 * If-Match. `/api/reports/links?token=` serves a file to whoever holds a signed, expiring link
 * from a report email (the link is the credential).
 */
@Controller('api/reports')
@UsePipes(validateDtos)
export class ReportsController {
  constructor(
    private readonly reports: ReportsService,
    private readonly repository: ReportsRepository,
    private readonly files: ReportFiles,
    private readonly signing: SigningService,
  ) {}

  @Get('templates')
  @RequirePermission('query')
  templates() {
    return this.reports.listTemplates();
  }

  @Get('links')
  async link(@Query('token') token: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    const payload = typeof token === 'string' ? this.signing.verify<{ purpose: string; run: string }>(token) : null;
    if (!payload || payload.purpose !== 'report-file') throw new ApiError(404, 'not_found', 'this download link is invalid or has expired; ask for the report again');
    const run = await this.repository.runById(payload.run);
    if (!run || run.status !== 'succeeded' || !run.file) throw new ApiError(404, 'not_found', 'the file of this link is no longer kept');
    const report = await this.repository.findById(run.reportId);
    await sendFile(reply, this.files.resolve(run.file), downloadName(report, run), FORMAT_FILES[run.format].contentType);
  }

  @Get()
  @RequirePermission('query')
  list(@CurrentAccountId() accountId: string, @Query() page: PageQueryDto) {
    return this.reports.list(accountId, page.offset ?? 0, page.limit ?? 100);
  }

  /** 202 with the run it generates now; 201 for a schedule-only definition (it waits for its time). */
  @Post()
  @RequirePermission('manage-account')
  async create(@CurrentAccountId() accountId: string, @Body() body: ReportDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const created = await this.reports.create(accountId, body);
    void reply.status(created.run ? 202 : 201).header('etag', versionTag(created.report.version));
    return created;
  }

  @Get(':id')
  @RequirePermission('query')
  async get(@CurrentAccountId() accountId: string, @Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const report = await this.reports.get(accountId, id);
    void reply.header('etag', versionTag(report.version));
    return report;
  }

  @Put(':id')
  @RequirePermission('manage-account')
  async replace(
    @CurrentAccountId() accountId: string,
    @Param('id') id: string,
    @Body() body: ReportReplaceDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const report = await this.reports.replace(accountId, id, body, ifMatchHeader(ifMatch, 'report'));
    void reply.header('etag', versionTag(report.version));
    return report;
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('manage-account')
  async remove(@CurrentAccountId() accountId: string, @Param('id') id: string): Promise<void> {
    await this.reports.remove(accountId, id);
  }

  @Post(':id/run')
  @HttpCode(202)
  @RequirePermission('manage-account')
  async run(@CurrentAccountId() accountId: string, @Param('id') id: string) {
    return { run: await this.reports.run(accountId, id) };
  }

  /** The latest generated file, or `?run=<id>`'s. */
  @Get(':id/download')
  @RequirePermission('query')
  async download(@CurrentAccountId() accountId: string, @Param('id') id: string, @Query('run') run: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    const found = await this.reports.download(accountId, id, run);
    await sendFile(reply, found.path, downloadName(found.report, found.run), FORMAT_FILES[found.run.format].contentType);
  }
}

/** Streams a file as an attachment, its name in ASCII and in UTF-8 (RFC 6266, RFC 5987). */
async function sendFile(reply: FastifyReply, path: string, name: string, contentType: string): Promise<void> {
  try {
    await stat(path);
  } catch {
    throw new ApiError(404, 'not_found', 'the file of this run is no longer kept (pruned or removed)');
  }
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  await reply
    .header('content-type', contentType)
    .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`)
    .header('cache-control', 'private, no-store')
    .send(createReadStream(path));
}
