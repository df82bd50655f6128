import { Module } from '@nestjs/common';
import { SessionAssigner } from './session-assigner.js';
import { SessionSummarizer } from './session-summarizer.js';

/**
 * The write side of sessions: assigning session ids to a batch's events and keeping the session
 * summaries up to date. The ingest pipeline runs both under the writer lock; the read side
 * (insights, profiles) reads their tables through the events store.
 */
@Module({
  providers: [SessionAssigner, SessionSummarizer],
  exports: [SessionAssigner, SessionSummarizer],
})
export class SessionsModule {}
