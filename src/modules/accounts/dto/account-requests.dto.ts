import { IsDefined, IsString, Matches } from 'class-validator';

export class AccountBalanceRequestDto {
  @Matches(/^ACC-[A-Z]+-[A-Z]{3,5}-\d{1,19}$/, { message: 'account_number must look like ACC-USER-USD-123' })
  @IsString()
  @IsDefined({ message: '$property is required' })
  account_number: string;
}
