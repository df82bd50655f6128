import { IsArray, IsBoolean, IsDefined, IsIn, IsNumber, IsObject, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { WholeNumber } from '../common/whole-number.decorator.js';
import { CONDITIONS, type Condition, SEVERITIES, type Severity } from './alert.types.js';
import { WINDOWS } from './alert-window.js';

/**
 * An alert definition as POST takes it (the spec's schema plus window, for, enabled, noData,
 * timezone and anomaly settings); the service checks what depends on the account.
 */
export class AlertDto {
  @IsString() @Length(1, 200) @Matches(/\S/, { message: 'name must not be blank' }) name!: string;
  /** A metric id or name, or `{id, dimension, value}` for one value of one of its dimensions. */
  @IsDefined({ message: 'metric is required: a custom metric id or name, or {id, dimension, value}' }) metric!: unknown;
  @IsIn(CONDITIONS as unknown as string[], { message: `condition must be one of ${CONDITIONS.join(', ')}` }) condition!: Condition;
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'threshold must be a finite number' }) threshold?: number;
  @IsOptional() @IsIn(SEVERITIES as unknown as string[], { message: `severity must be one of ${SEVERITIES.join(', ')}` }) severity?: Severity;
  @IsArray({ message: 'channels must be an array of channel names (email, slack, webhook) or channel objects' }) channels!: unknown[];
  /** Seconds; default 900. */
  @IsOptional() @WholeNumber(0, 7 * 86_400) cooldown?: number;
  @IsOptional() @IsIn(Object.keys(WINDOWS), { message: `window must be one of ${Object.keys(WINDOWS).join(', ')}` }) window?: string;
  @IsOptional() @WholeNumber(1, 100) for?: number;
  @IsOptional() @IsBoolean() enabled?: boolean;
  @IsOptional() @IsIn(['ok', 'alert'], { message: 'noData must be ok or alert' }) noData?: 'ok' | 'alert';
  @IsOptional() @IsString() @MaxLength(64) timezone?: string;
  /** `{sensitivity, weeks, minVolume, direction}` for the anomaly condition. */
  @IsOptional() @IsObject({ message: 'anomaly must be an object {sensitivity, weeks, minVolume, direction}' }) anomaly?: Record<string, unknown>;
}

/** PUT's body: a definition, or the alert's own GET answer sent back (read-only fields accepted). */
export class AlertReplaceDto extends AlertDto {
  @IsOptional() @IsString() id?: string;
  @IsOptional() version?: number;
  @IsOptional() createdAt?: string;
  @IsOptional() updatedAt?: string;
  @IsOptional() status?: unknown;
}

/** A backtest: a definition (channels optional) and the past range to run it over. */
export class AlertPreviewDto extends AlertDto {
  @IsOptional() @IsString() @Length(1, 200) declare name: string;
  @IsOptional() @IsArray() declare channels: unknown[];
  /** ISO 8601 or epoch ms; default: 7 days before `to`. */
  @IsOptional() @IsString() from?: string;
  /** ISO 8601 or epoch ms; default: the end of the last complete window. */
  @IsOptional() @IsString() to?: string;
}
