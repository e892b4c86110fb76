import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Column as _arbiter_v1_Column, Column__Output as _arbiter_v1_Column__Output } from './arbiter/v1/Column.js';
import type { ResultSet as _arbiter_v1_ResultSet, ResultSet__Output as _arbiter_v1_ResultSet__Output } from './arbiter/v1/ResultSet.js';
import type { Row as _arbiter_v1_Row, Row__Output as _arbiter_v1_Row__Output } from './arbiter/v1/Row.js';
import type { Value as _arbiter_v1_Value, Value__Output as _arbiter_v1_Value__Output } from './arbiter/v1/Value.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  arbiter: {
    v1: {
      Column: MessageTypeDefinition<_arbiter_v1_Column, _arbiter_v1_Column__Output>
      ResultSet: MessageTypeDefinition<_arbiter_v1_ResultSet, _arbiter_v1_ResultSet__Output>
      Row: MessageTypeDefinition<_arbiter_v1_Row, _arbiter_v1_Row__Output>
      Value: MessageTypeDefinition<_arbiter_v1_Value, _arbiter_v1_Value__Output>
    }
  }
}

