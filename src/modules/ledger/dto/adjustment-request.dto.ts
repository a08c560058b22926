import { ApiProperty } from '@nestjs/swagger';
import { Allow, IsIn, IsString, Length, Matches } from 'class-validator';
import { IsRowId } from '../../../core/http/row-id.validator.js';
import { required } from '../../../core/http/dto-validators.js';

export class AdjustmentRequestDto {
  @ApiProperty({ example: '123' })
  @IsRowId({ message: 'user_id must be a user id' })
  @IsString()
  @required()
  user_id: string;

  @ApiProperty({ example: 'USD' })
  @Matches(/^[A-Z]{3,5}$/, { message: 'currency must be a currency code such as USD' })
  @IsString()
  @required()
  currency: string;

  @ApiProperty({ example: '100.00', description: 'a positive amount, number or decimal string' })
  @Allow()
  @required()
  amount: unknown;

  @ApiProperty({ enum: ['credit', 'debit'] })
  @IsIn(['credit', 'debit'], { message: 'direction must be credit or debit' })
  @required()
  direction: 'credit' | 'debit';

  @ApiProperty({ example: 'goodwill credit for ticket 4711' })
  @Length(3, 500)
  @IsString()
  @required()
  reason: string;
}
