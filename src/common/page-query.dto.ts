import { IsOptional } from 'class-validator';
import { WholeNumber } from './whole-number.decorator.js';

/** `limit` and `offset` of a listing (accounts, metrics, profiles). */
export class PageQueryDto {
  @IsOptional()
  @WholeNumber(1, 1000)
  limit?: number;

  @IsOptional()
  @WholeNumber(0)
  offset?: number;
}
