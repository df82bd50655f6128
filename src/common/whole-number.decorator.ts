import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { ValidateBy } from 'class-validator';

/**
 * A query-string number that must be a whole number within bounds, with one message that says
 * so whatever was wrong (`limit=abc`, `limit=-1` and `limit=1e9` all read "must be a whole
 * number from 1 to 1000"), instead of whichever of several checks ran first.
 */
export function WholeNumber(min: number, max?: number): PropertyDecorator {
  const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
  return applyDecorators(
    Type(() => Number),
    ValidateBy({
      name: 'wholeNumber',
      validator: {
        validate: (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= min && (max === undefined || value <= max),
        defaultMessage: (args) => `${args?.property ?? 'value'} must be a whole number ${range}`,
      },
    }),
  );
}
