import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsPositive,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { WholeNumber } from '../common/whole-number.decorator.js';
import { INTERVALS, type Interval } from '../infrastructure/clickhouse/query/query-kit.js';
import { FILTER_OPS, type FilterOp } from './filter.compiler.js';
import { AGGREGATIONS, type Aggregation, METRIC_TYPES, type MetricType, PRECISIONS, type Precision } from './metric.types.js';

export class FilterDto {
  @IsString() @Length(1, 300) field!: string;
  @IsIn(FILTER_OPS as unknown as string[], { message: `op must be one of ${FILTER_OPS.join(', ')}` }) op!: FilterOp;
  @IsOptional() value?: unknown;
}

export class SeriesDto {
  @IsOptional() @IsString() @Length(1, 200) eventName?: string;
  @IsOptional() @IsString() @Length(1, 200) eventType?: string;
  @IsIn(AGGREGATIONS as unknown as string[], { message: `aggregation must be one of ${AGGREGATIONS.join(', ')}` })
  aggregation!: Aggregation;
  @IsOptional() @IsString() @Length(1, 300) field?: string;
  @IsOptional() @IsArray() @ArrayMaxSize(20) @ValidateNested({ each: true }) @Type(() => FilterDto) filters?: FilterDto[];
  @IsOptional() @IsIn(PRECISIONS as unknown as string[], { message: `precision must be one of ${PRECISIONS.join(', ')}` }) precision?: Precision;
}

/** A metric definition as clients send it (POST creates, PUT replaces). */
export class MetricDto {
  @IsString() @Length(1, 200) @Matches(/\S/, { message: 'name must not be blank' }) name!: string;
  @IsOptional() @IsString() @MaxLength(2000) description?: string;
  @IsIn(METRIC_TYPES as unknown as string[], { message: `type must be one of ${METRIC_TYPES.join(', ')}` }) type!: MetricType;
  @IsOptional() @IsString() @MaxLength(50) unit?: string;
  @IsIn(AGGREGATIONS as unknown as string[], { message: `aggregation must be one of ${AGGREGATIONS.join(', ')}` })
  aggregation!: Aggregation;
  @IsOptional() @IsString() @Length(1, 200) eventName?: string;
  @IsOptional() @IsString() @Length(1, 200) eventType?: string;
  @IsOptional() @IsString() @Length(1, 300) field?: string;
  @IsOptional() @IsIn(PRECISIONS as unknown as string[], { message: `precision must be one of ${PRECISIONS.join(', ')}` }) precision?: Precision;
  @IsOptional() @IsString() @Length(1, 500) formula?: string;
  @IsOptional() @IsObject() series?: Record<string, SeriesDto>;
  @IsOptional() @IsArray() @ArrayMaxSize(20) @ValidateNested({ each: true }) @Type(() => FilterDto) filters?: FilterDto[];
  @IsOptional() @IsArray() @ArrayMaxSize(5) @IsString({ each: true }) dimensions?: string[];
  @IsOptional() @IsArray() @ArrayMaxSize(50) @IsNumber({}, { each: true }) buckets?: number[];
}

/**
 * PUT's body: a definition, or the metric's own GET answer sent back as it is. Its read-only
 * fields are accepted: `id` must be the path's id, `version` is the version the change is based
 * on (a stale one is refused, as with If-Match), `createdAt` and `updatedAt` are ignored.
 */
export class MetricReplaceDto extends MetricDto {
  @IsOptional() @IsString() id?: string;
  @IsOptional() @IsInt({ message: 'version must be a whole number (the version the change is based on)' }) @IsPositive() version?: number;
  @IsOptional() @IsString() createdAt?: string;
  @IsOptional() @IsString() updatedAt?: string;
}

const list = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
const bool = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

export class MetricDataQueryDto {
  /** ISO 8601 or epoch ms; default: `to` minus 7 days */
  @IsOptional() @IsString() from?: string;
  /** ISO 8601 or epoch ms; default: now */
  @IsOptional() @IsString() to?: string;
  @IsOptional() @IsIn(INTERVALS as unknown as string[], { message: `interval must be one of ${INTERVALS.join(', ')}` })
  interval?: Interval;
  @IsOptional() @IsString() @MaxLength(64) timezone?: string;
  @IsOptional() @Transform(list) @IsArray() @ArrayMaxSize(5) @IsString({ each: true }) groupBy?: string[];
  @IsOptional() @WholeNumber(1, 1000) limit?: number;
  @IsOptional() @Transform(bool) @IsBoolean() other?: boolean;
  @IsOptional() @Transform(bool) @IsBoolean() fill?: boolean;
}
