import { ArrayMaxSize, IsArray, IsBoolean, IsEmail, IsIn, IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';
import { REPORT_FORMATS, type ReportFormat } from './report.types.js';

/** A report definition, as POST takes it (the spec's schema); the service checks the rest. */
export class ReportDto {
  @IsString() @Length(1, 200) @Matches(/\S/, { message: 'name must not be blank' }) name!: string;
  @IsString() @Length(1, 64) template!: string;
  @IsOptional() @IsObject({ message: 'parameters must be an object' }) parameters?: Record<string, unknown>;
  @IsIn(REPORT_FORMATS as unknown as string[], { message: `format must be one of ${REPORT_FORMATS.join(', ')}` }) format!: ReportFormat;
  /** `{cron, timezone}`: checked by the service (cron-parser, IANA zones). */
  @IsOptional() @IsObject({ message: 'schedule must be an object {cron, timezone}' }) schedule?: Record<string, unknown>;
  /** The zone of an unscheduled report's dates (a scheduled one takes its schedule's). */
  @IsOptional() @IsString() @Length(1, 64) timezone?: string;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsEmail({}, { each: true, message: 'recipients must be email addresses' })
  recipients?: string[];
  /** With a schedule: generate now as well (without one, it always is). */
  @IsOptional() @IsBoolean() runNow?: boolean;
}

/** PUT's body: a definition, or the report's own GET answer sent back (read-only fields accepted). */
export class ReportReplaceDto extends ReportDto {
  @IsOptional() @IsString() id?: string;
  @IsOptional() version?: number;
  @IsOptional() createdAt?: string;
  @IsOptional() updatedAt?: string;
  @IsOptional() nextRunAt?: string | null;
  @IsOptional() upcoming?: string[];
  @IsOptional() status?: string | null;
  @IsOptional() runs?: unknown[];
}
