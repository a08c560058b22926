import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsInt, IsObject, IsString, Length, Matches, Max, Min } from 'class-validator';
import { IsRowId } from '../../../core/http/row-id.validator.js';
import { offsetField, optional, required, rowIdInteger } from '../../../core/http/dto-validators.js';

export class GetNotificationsRequestDto {
  @Max(100)
  @Min(1)
  @IsInt()
  @optional()
  limit?: number;

  @offsetField()
  @optional()
  offset?: number;
}

export class MarkNotificationsReadRequestDto {
  /** Ids to mark read; absent: all of them. */
  @rowIdInteger({ each: true })
  @ArrayMaxSize(100)
  @IsArray()
  @optional()
  ids?: number[];
}

export class TestNotificationRequestDto {
  @ApiProperty({ example: '123' })
  @IsRowId({ message: 'user_id must be a user id' })
  @IsString()
  @required()
  user_id: string;

  @ApiProperty({ example: 'payment' })
  @Matches(/^[a-z][a-z0-9_.-]{0,63}$/, { message: 'event must be 1-64 lower-case letters, digits, "_", "." or "-"' })
  @IsString()
  @required()
  event: string;

  @ApiPropertyOptional({ example: { PaymentId: 'test_123', Status: 'authorized', Amount: 100 } })
  @IsObject()
  @optional()
  payload?: Record<string, unknown>;
}

export class NoticeRequestDto {
  @ApiProperty({ example: 'Your KYC documents were approved' })
  @Length(1, 1000)
  @IsString()
  @required()
  message: string;
}
