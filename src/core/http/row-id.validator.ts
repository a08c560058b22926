// class-validator rule for ids in request bodies: a decimal string that fits bigint, so an id the
// database cannot hold is a validation error on its field, not a failed query.
import { ValidateBy, type ValidationOptions } from 'class-validator';
import { isRowId } from '../../shared/ids.js';

export const IsRowId = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy({ name: 'isRowId', validator: { validate: (value) => isRowId(value) } }, options);
