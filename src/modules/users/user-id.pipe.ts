import { Injectable, type PipeTransform } from '@nestjs/common';
import { DomainError } from '../../core/errors/domain-error.js';

/** A user id in a path: a positive decimal integer that fits bigint. */
@Injectable()
export class UserIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!/^[1-9]\d{0,18}$/.test(value) || BigInt(value) > 9223372036854775807n) {
      throw new DomainError('NOT_FOUND', 'user not found', { field: 'id' });
    }
    return value;
  }
}
