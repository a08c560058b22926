import { Injectable, type PipeTransform } from '@nestjs/common';
import { DomainError } from '../../core/errors/domain-error.js';
import { isRowId } from '../../shared/ids.js';

/** A user id in a path: a positive decimal integer that fits bigint. */
@Injectable()
export class UserIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isRowId(value)) {
      throw new DomainError('NOT_FOUND', 'user not found', { field: 'id' });
    }
    return value;
  }
}
