import { IsIn, IsString, Length, Matches } from 'class-validator';
import { CLIENT_TYPES, type ClientType } from './account.types.js';

export class CreateAccountDto {
  @IsString()
  @Length(1, 200)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;
}

export class CreateClientDto {
  @IsIn(CLIENT_TYPES as unknown as string[], { message: `type must be one of ${CLIENT_TYPES.join(', ')}` })
  type!: ClientType;
}
