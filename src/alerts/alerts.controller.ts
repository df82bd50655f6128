import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Query, Res, UsePipes } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CurrentAccountId, RequirePermission } from '../accounts/auth.decorators.js';
import { ifMatchHeader, versionTag } from '../common/entity-tag.js';
import { PageQueryDto } from '../common/page-query.dto.js';
import { validateDtos } from '../common/validation.pipe.js';
import { AlertDto, AlertPreviewDto, AlertReplaceDto } from './alerts.dto.js';
import { AlertsService } from './alerts.service.js';

/**
 * The Alerts API. Admin clients manage definitions, the account's named channels and backtests;
 * read clients list alerts, read their state and history. An alert's answers carry its ETag
 * (`"<version>"`), which PUT takes in If-Match. The webhook signing secret is shown when the
 * alert is created and when it is rotated, never in reads.
 */
@Controller('api/alerts')
@UsePipes(validateDtos)
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get('channels')
  @RequirePermission('query')
  channels(@CurrentAccountId() accountId: string) {
    return this.alerts.accountChannels(accountId);
  }

  /** `{"email": [...], "slack": "https://hooks.slack.com/…", "webhook": "https://…"}`: what channel names mean. */
  @Put('channels')
  @RequirePermission('manage-account')
  setChannels(@CurrentAccountId() accountId: string, @Body() body: unknown) {
    return this.alerts.setAccountChannels(accountId, body);
  }

  @Post('preview')
  @HttpCode(200)
  @RequirePermission('query')
  preview(@CurrentAccountId() accountId: string, @Body() body: AlertPreviewDto) {
    return this.alerts.preview(accountId, body);
  }

  @Get()
  @RequirePermission('query')
  list(@CurrentAccountId() accountId: string, @Query() page: PageQueryDto) {
    return this.alerts.list(accountId, page.offset ?? 0, page.limit ?? 100);
  }

  @Post()
  @RequirePermission('manage-account')
  async create(@CurrentAccountId() accountId: string, @Body() body: AlertDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const alert = await this.alerts.create(accountId, body);
    void reply.status(201).header('etag', versionTag(alert.version)).header('location', `/api/alerts/${alert.id}`);
    return alert;
  }

  @Get(':id')
  @RequirePermission('query')
  async get(@CurrentAccountId() accountId: string, @Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const alert = await this.alerts.get(accountId, id);
    void reply.header('etag', versionTag(alert.version));
    return alert;
  }

  @Put(':id')
  @RequirePermission('manage-account')
  async replace(
    @CurrentAccountId() accountId: string,
    @Param('id') id: string,
    @Body() body: AlertReplaceDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const alert = await this.alerts.replace(accountId, id, body, ifMatchHeader(ifMatch, 'alert'));
    void reply.header('etag', versionTag(alert.version));
    return alert;
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('manage-account')
  async remove(@CurrentAccountId() accountId: string, @Param('id') id: string): Promise<void> {
    await this.alerts.remove(accountId, id);
  }

  /** Newest first. */
  @Get(':id/history')
  @RequirePermission('query')
  history(@CurrentAccountId() accountId: string, @Param('id') id: string, @Query() page: PageQueryDto) {
    return this.alerts.history(accountId, id, page.offset ?? 0, page.limit ?? 100);
  }

  @Post(':id/secret')
  @RequirePermission('manage-account')
  rotateSecret(@CurrentAccountId() accountId: string, @Param('id') id: string) {
    return this.alerts.rotateSecret(accountId, id);
  }
}
