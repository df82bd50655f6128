import { IsOptional, IsString, MaxLength } from 'class-validator';
import { WholeNumber } from '../common/whole-number.decorator.js';

export class SearchEventsQueryDto {
  @IsOptional() @IsString() @MaxLength(500) q?: string;
  @IsOptional() @IsString() @MaxLength(200) eventType?: string;
  @IsOptional() @IsString() @MaxLength(200) eventName?: string;
  @IsOptional() @IsString() @MaxLength(200) userId?: string;
  @IsOptional() @IsString() @MaxLength(200) sessionId?: string;
  /** ISO 8601 or epoch ms, inclusive */
  @IsOptional() @IsString() from?: string;
  /** ISO 8601 or epoch ms, exclusive */
  @IsOptional() @IsString() to?: string;

  @IsOptional()
  @WholeNumber(1, 1000)
  limit?: number;

  @IsOptional() @IsString() @MaxLength(500) cursor?: string;
}
