import { Controller, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CurrentAccountId, RequirePermission } from '../../accounts/auth.decorators.js';
import { MetricsService } from '../../metrics/index.js';
import { FECHATTER_METRICS } from './fechatter-metrics.js';

/**
 * Creates the account's Fechatter metrics (daily active users, messages and their size by type,
 * errors by type). Idempotent: a metric of that name that exists is left as it is (the user may
 * have changed it), so the call can be repeated after an upgrade adds one.
 */
@Controller('api/sources/fechatter')
export class FechatterMetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Post('metrics')
  @RequirePermission('manage-account')
  async seed(@CurrentAccountId() accountId: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const out: { id: string; name: string; created: boolean }[] = [];
    for (const definition of FECHATTER_METRICS) {
      const existing = await this.metrics.resolve(accountId, definition.name);
      const metric = existing ?? (await this.metrics.create(accountId, { ...definition }));
      out.push({ id: metric.id, name: metric.name, created: !existing });
    }
    void reply.status(out.some((m) => m.created) ? 201 : 200);
    return { metrics: out };
  }
}
