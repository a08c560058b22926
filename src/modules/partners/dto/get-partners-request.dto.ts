import { IsDefined, IsString, Matches } from 'class-validator';

export class GetPartnersRequestDto {
  @Matches(/^[a-z_]{2,32}$/, { message: 'service must be a service name such as mpesa' })
  @IsString()
  @IsDefined({ message: 'service is required' })
  service: string;
}
