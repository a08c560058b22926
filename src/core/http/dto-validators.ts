// Decorators every request DTO uses, with the API's messages (class-validator).
import { IsDefined, Matches } from 'class-validator';

/** The field must be present: `<field> is required`. */
export const required = () => IsDefined({ message: '$property is required' });

/** A currency code such as USD (whether the currency is known is the service's question). */
export const currencyCode = () => Matches(/^[A-Z]{3,5}$/, { message: '$property must be a currency code such as USD' });
