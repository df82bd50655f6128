import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { type AuthenticatedRequest, CurrentAccountId, RequirePermission } from '../../accounts/auth.decorators.js';
import { ApiError } from '../../common/api-error.js';
import { IngestService, requestContext } from '../../events/index.js';
import { batchEventPath, decodeBatchBody } from './rest-events.decoder.js';

/**
 * The Events API's ingest routes: canonical events as JSON, one or a batch, answered 202 once
 * the ingest log holds them. Errors in the API's one shape (the global filter's default). Search
 * over the same path (GET /api/events/search) is a query and lives in src/events/.
 */
@Controller('api/events')
export class RestEventsController {
  constructor(private readonly ingest: IngestService) {}

  @Post()
  @HttpCode(202)
  @RequirePermission('ingest')
  async trackOne(@CurrentAccountId() accountId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest) {
    const outcome = await this.ingest.ingest(accountId, [body], requestContext(request));
    const rejected = outcome.rejected[0];
    if (rejected) throw rejected.tooLarge ? ApiError.tooLarge(rejected.errors) : ApiError.validation(rejected.errors);
    return { eventId: outcome.eventIds[0] };
  }

  @Post('batch')
  @HttpCode(202)
  @RequirePermission('ingest')
  async trackBatch(@CurrentAccountId() accountId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest) {
    const events = decodeBatchBody(body);
    const outcome = await this.ingest.ingest(accountId, events, requestContext(request), { eventPath: batchEventPath });
    const rejected = outcome.rejected.map((r) => ({ index: r.index, errors: r.errors }));
    if (outcome.accepted === 0) {
      // Nothing was kept: the one error shape, with each problem's path naming its event.
      const problems = outcome.rejected.flatMap((r) => r.errors);
      if (outcome.rejected.every((r) => r.tooLarge)) throw ApiError.tooLarge(problems);
      const shown = problems.slice(0, 3).map((p) => `${p.field}: ${p.message}`);
      const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more in details` : '';
      throw ApiError.validation(problems, `no event in the batch was accepted: ${shown.join('; ')}${more}`);
    }
    return { accepted: outcome.accepted, duplicates: outcome.duplicates, rejected };
  }
}
