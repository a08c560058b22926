// Decorators every request DTO uses, with the API's messages (class-validator).
import { applyDecorators } from '@nestjs/common';
import { IsDefined, IsInt, Matches, Max, Min, ValidateBy, ValidateIf, type ValidationOptions } from 'class-validator';

/**
 * The field may be left out; when present it is validated, `null` included (class-validator's
 * IsOptional lets null through unchecked, and services read a present field as a value).
 */
export const optional = () => ValidateIf((_object: object, value: unknown) => value !== undefined);

/** The field must be present: `<field> is required`. */
export const required = () => IsDefined({ message: '$property is required' });

/** A currency code such as USD (whether the currency is known is the service's question). */
export const currencyCode = () => Matches(/^[A-Z]{3,5}$/, { message: '$property must be a currency code such as USD' });

/** The largest `offset` a listing accepts (deeper pages are read with filters). */
export const MAX_OFFSET = 1_000_000;

/**
 * An integer within [min, max]. Every integer a request carries is bounded: IsInt alone lets
 * 1e20 or 1e308 through, which PostgreSQL then refuses (bigint out of range) as an internal error.
 */
export const integerIn = (min: number, max: number, options: ValidationOptions = {}) =>
  applyDecorators(IsInt(options), Min(min, options), Max(max, options));

/** `offset` of a listing. */
export const offsetField = () => integerIn(0, MAX_OFFSET);

/** A row id given as a JSON integer (each element with `{ each: true }`). */
export const rowIdInteger = (options: ValidationOptions = {}) => integerIn(1, Number.MAX_SAFE_INTEGER, options);

/** Decimal places of a finite number as JavaScript writes it (`1e-7` has 7, `1.25e-5` has 7). */
export function decimalPlacesOf(value: number): number {
  const [mantissa, exponent] = String(value).split('e');
  const places = (mantissa.split('.')[1]?.length ?? 0) - Number(exponent ?? 0);
  return Math.max(0, places);
}

/**
 * A finite JSON number with at most `places` decimal places. class-validator's own
 * `maxDecimalPlaces` throws on numbers JavaScript writes with an exponent (1e-7), which reached
 * clients as a 500.
 */
export const finiteNumber = (places: number, options: ValidationOptions = {}) =>
  ValidateBy(
    {
      name: 'finiteNumber',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'number' && Number.isFinite(value) && decimalPlacesOf(value) <= places,
        defaultMessage: () => `$property must be a number with at most ${places} decimal places`,
      },
    },
    options,
  );
