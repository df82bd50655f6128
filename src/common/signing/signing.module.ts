import { Module } from '@nestjs/common';
import { SigningService } from './signing.service.js';

/** Signed, expiring tokens (download links, live tokens). Import it where SigningService is needed. */
@Module({
  providers: [SigningService],
  exports: [SigningService],
})
export class SigningModule {}
