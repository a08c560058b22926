// Request DTO validation shared by every transport: whitelisted fields only, strict types, and a
// VALIDATION_FAILED error naming the first field at fault.
import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { DomainError } from './domain-error.js';

interface FieldProblem {
  field: string;
  messages: string[];
}

function flatten(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

export function validationError(errors: ValidationError[]): DomainError {
  const problems = flatten(errors);
  const first = problems[0] ?? { field: 'body', messages: ['is invalid'] };
  // class-validator messages start with the property name ("email must be an email");
  // "property x should not exist" names it too.
  return new DomainError('VALIDATION_FAILED', first.messages[0], {
    field: first.field,
    data: { errors: problems },
  });
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: validationError,
  });
}
